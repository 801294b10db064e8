import type { Logger } from "../log/logger.ts";
import { parsePeersFile, type PeerEntry } from "./peers_file.ts";

/** Called with the new peers whenever a reload finds a different valid set. */
export type PeersChangeHandler = (peers: readonly PeerEntry[]) => void;

/** Options of {@linkcode PeersFileWatcher.open}. */
export interface PeersFileWatcherOptions {
  /** Time between polls in ms (1000 by default); null polls never, for tests. */
  intervalMs?: number | null;
}

/** Largest peers file read, so a wrong path cannot make every poll read a huge file. */
export const MAX_PEERS_FILE_BYTES = 1024 * 1024;

const DEFAULT_INTERVAL_MS = 1000;

/**
 * Keeps a peers file's peers current: it polls the file and calls `onChange` when its
 * valid content describes a different set of peers.
 *
 * Polling reads the whole (small) file each time rather than trusting the modification
 * time, whose resolution on some file systems hides a quick second edit, and it follows
 * the path, so an editor that saves by renaming a new file into place is seen too. An
 * invalid edit or a deleted file keeps the last good peers and is logged once per distinct
 * content.
 */
export class PeersFileWatcher {
  #path: string;
  #selfId: string;
  #logger: Logger;
  #onChange: PeersChangeHandler;
  #intervalMs: number | null;
  #peers: readonly PeerEntry[];
  #lastText: string | null;
  #lastProblem: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending: Promise<boolean> = Promise.resolve(false);
  #closed = false;

  private constructor(
    path: string,
    selfId: string,
    logger: Logger,
    onChange: PeersChangeHandler,
    intervalMs: number | null,
    text: string,
    peers: PeerEntry[],
  ) {
    this.#path = path;
    this.#selfId = selfId;
    this.#logger = logger;
    this.#onChange = onChange;
    this.#intervalMs = intervalMs;
    this.#lastText = text;
    this.#peers = peers;
  }

  /**
   * Reads and parses the file, then starts polling it. `onChange` is not called for the
   * peers read here; they are in {@linkcode peers}.
   *
   * @throws {Deno.errors.NotFound} when the file does not exist, naming the path.
   * @throws {SyntaxError | TypeError | RangeError} when the file is not a valid peers file.
   * @throws {Error} when the file cannot be read for another reason, naming the path.
   */
  static async open(
    path: string,
    selfId: string,
    logger: Logger,
    onChange: PeersChangeHandler,
    options: PeersFileWatcherOptions = {},
  ): Promise<PeersFileWatcher> {
    const intervalMs = options.intervalMs === undefined ? DEFAULT_INTERVAL_MS : options.intervalMs;
    if (intervalMs !== null && !(Number.isFinite(intervalMs) && intervalMs > 0)) {
      throw new RangeError(`Cannot watch peers file: interval ${intervalMs} ms is not positive`);
    }
    let text: string;
    try {
      text = await readPeersText(path);
    } catch (error) {
      const message = `Cannot read peers file ${path}: ${describeError(error)}`;
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(message, { cause: error });
      }
      throw new Error(message, { cause: error });
    }
    const peers = parsePeersFile(text, path, selfId);
    const watcher = new PeersFileWatcher(path, selfId, logger, onChange, intervalMs, text, peers);
    watcher.#schedule();
    return watcher;
  }

  /** The last valid set of peers, ordered by id. */
  get peers(): readonly PeerEntry[] {
    return this.#peers;
  }

  /**
   * Re-reads the file now, after any reload already running, and resolves to whether the
   * peers changed (and `onChange` was called). After {@linkcode close} it resolves to false.
   */
  reloadNow(): Promise<boolean> {
    const next = this.#pending.then(() => this.#closed ? false : this.#reload());
    // The queue must outlive a failed reload; the failure itself reaches the caller.
    this.#pending = next.catch(() => false);
    return next;
  }

  /** Stops polling and waits for a reload in progress to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pending;
  }

  #schedule(): void {
    if (this.#closed || this.#intervalMs === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reloadNow()
        .catch((error) => {
          this.#logger.error(`Cannot reload peers file ${this.#path}: ${describeError(error)}`);
        })
        .finally(() => this.#schedule());
    }, this.#intervalMs);
  }

  async #reload(): Promise<boolean> {
    let text: string;
    try {
      text = await readPeersText(this.#path);
    } catch (error) {
      this.#lastText = null; // so the file is parsed afresh when it comes back
      if (error instanceof Deno.errors.NotFound) {
        this.#report(`Peers file ${this.#path} was deleted; ${this.#keeping()}`);
      } else {
        this.#report(
          `Cannot read peers file ${this.#path}: ${describeError(error)}; ` +
            this.#keeping(),
        );
      }
      return false;
    }
    if (text === this.#lastText) return false;
    this.#lastText = text;

    let peers: PeerEntry[];
    try {
      peers = parsePeersFile(text, this.#path, this.#selfId);
    } catch (error) {
      if (
        !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)
      ) {
        throw error;
      }
      this.#report(`${error.message}; ${this.#keeping()}`);
      return false;
    }
    if (this.#lastProblem !== null) {
      this.#logger.info(`Peers file ${this.#path} is valid again`);
      this.#lastProblem = null;
    }
    if (samePeers(peers, this.#peers)) return false;

    this.#logger.info(`Peers file ${this.#path} changed: ${describeChange(this.#peers, peers)}`);
    this.#peers = peers;
    try {
      this.#onChange(peers);
    } catch (error) {
      this.#logger.error(`Peers change handler failed: ${describeError(error)}`);
    }
    return true;
  }

  #report(problem: string): void {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    this.#logger.warn(problem);
  }

  #keeping(): string {
    const count = this.#peers.length;
    return `keeping the last good peers (${count} ${count === 1 ? "peer" : "peers"})`;
  }
}

async function readPeersText(path: string): Promise<string> {
  const info = await Deno.stat(path);
  if (!info.isFile) throw new TypeError("not a regular file");
  if (info.size > MAX_PEERS_FILE_BYTES) {
    throw new RangeError(`${info.size} bytes is above the ${MAX_PEERS_FILE_BYTES} byte limit`);
  }
  return await Deno.readTextFile(path);
}

function describeError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

function samePeers(a: readonly PeerEntry[], b: readonly PeerEntry[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeChange(before: readonly PeerEntry[], after: readonly PeerEntry[]): string {
  const oldIds = new Set(before.map((peer) => peer.id));
  const newIds = new Set(after.map((peer) => peer.id));
  const added = [...newIds].filter((id) => !oldIds.has(id));
  const removed = [...oldIds].filter((id) => !newIds.has(id));
  const parts = [`${after.length} ${after.length === 1 ? "peer" : "peers"}`];
  if (added.length > 0) parts.push(`added ${added.join(", ")}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(", ")}`);
  if (added.length === 0 && removed.length === 0) parts.push("addresses or capabilities updated");
  return parts.join("; ");
}
