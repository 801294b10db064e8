import { renderScreen } from "./render_screen.ts";
import { TerminalScreen } from "./terminal_screen.ts";
import type { ScreenSize, TuiViewModel } from "./view_model.ts";

/** What the view needs from its program. */
export interface TuiAppOptions {
  /** The current view model. */
  model(): TuiViewModel | Promise<TuiViewModel>;
  /** Writes text to the terminal, synchronously. */
  write(text: string): void;
  /** The terminal's size now. */
  size(): ScreenSize;
  /** Keys typed (the terminal in cbreak mode); none when stdin is not a terminal. */
  input?: ReadableStream<Uint8Array>;
  /** The user pressed `q`. */
  onQuit(): void;
  /** Time between two frames (default 100 ms: at most 10 redraws a second). */
  frameMs?: number;
  /** A whole repaint this often, over anything else that reached the screen (default 2 s). */
  repaintMs?: number;
  /** A frame that failed to build, for the log. */
  onError?(error: unknown): void;
}

/**
 * The terminal view: every frame it builds the view model, renders it for the terminal's
 * current size (so a resize shows at the next frame) and writes what changed. Frames come
 * at most every `frameMs`; nothing is written when nothing changed.
 */
export class TuiApp {
  #options: TuiAppOptions;
  #screen: TerminalScreen;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #frame: Promise<void> | null = null;
  #lastRepaint = 0;
  #stopped = false;
  #reading: Promise<void> = Promise.resolve();
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;

  /** A view that draws nothing until started. */
  constructor(options: TuiAppOptions) {
    this.#options = options;
    this.#screen = new TerminalScreen(options.write);
  }

  /** Opens the alternate screen, draws the first frame and keeps drawing. */
  start(): void {
    this.#screen.open();
    if (this.#options.input) this.#reading = this.#readKeys(this.#options.input);
    this.#schedule(0);
  }

  /** Stops drawing and restores the terminal; safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#frame;
    this.#screen.close();
    await this.#reader?.cancel().catch(() => {});
    await this.#reading;
  }

  /** Restores the terminal now, without waiting (a crash handler). */
  restore(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#screen.close();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#frame = this.#draw().finally(() => {
        this.#frame = null;
        this.#schedule(this.#options.frameMs ?? 100);
      });
    }, ms);
  }

  async #draw(): Promise<void> {
    try {
      const model = await this.#options.model();
      if (this.#stopped) return;
      const size = this.#options.size();
      const now = performance.now();
      const full = now - this.#lastRepaint >= (this.#options.repaintMs ?? 2000);
      if (full) this.#lastRepaint = now;
      this.#screen.draw(renderScreen(model, size), size, full);
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  async #readKeys(input: ReadableStream<Uint8Array>): Promise<void> {
    this.#reader = input.getReader();
    try {
      while (true) {
        const { value, done } = await this.#reader.read();
        if (done) return;
        if (value.includes(0x71) || value.includes(0x51)) this.#options.onQuit(); // q, Q
      }
    } catch {
      // The terminal went away: the node keeps running, without keys.
    } finally {
      this.#reader.releaseLock();
    }
  }
}
