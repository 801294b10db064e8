import { dirname } from "node:path";

const encoder = new TextEncoder();

/** A log file lines are appended to, synchronously, so none is lost at a crash. */
export class LogFile {
  readonly path: string;
  #file: Deno.FsFile | null;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Opens (creating it and its folder) the file at `path` for appending. */
  static open(path: string): LogFile {
    Deno.mkdirSync(dirname(path), { recursive: true });
    return new LogFile(path, Deno.openSync(path, { append: true, create: true }));
  }

  /** Appends a line; a line that cannot be written is dropped (the log must not stop the node). */
  write(line: string): void {
    try {
      this.#file?.writeSync(encoder.encode(line + "\n"));
    } catch {
      // A full disk or a removed file: logging goes on elsewhere (the view's pane).
    }
  }

  /** Closes the file; later lines are dropped. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
