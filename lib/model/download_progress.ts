/**
 * Download progress: the event a node reports (to its log, its terminal, its peers and the
 * API) and the tracker that computes it.
 *
 * @module
 */
import { parseStatusObject } from "../protocol/status_json.ts";

/** One file of a download. */
export interface FileProgress {
  file: string;
  bytes: number;
  totalBytes: number;
  done: boolean;
}

/** Where a download is: `done` and `failed` are final. */
export type DownloadStatus = "downloading" | "done" | "failed";

/** One node's progress on one model, the JSON of a `status` message. */
export interface DownloadEvent {
  event: "download";
  nodeId: string;
  /** The model as named (registry id or hub repo id). */
  model: string;
  repo: string;
  /** The file that changed last. */
  file: string;
  /** Bytes present of every file of this download. */
  bytes: number;
  totalBytes: number;
  /** Bytes per second fetched in this download (resumed bytes excluded). */
  speed: number;
  /** Seconds left at the current speed; null while unknown. */
  eta: number | null;
  /** Where the download is: still running, complete, or stopped by `error`. */
  status: DownloadStatus;
  /** True once every file is present (never for a failed download). */
  done: boolean;
  /** Why the download stopped, when it failed. */
  error?: string;
  files: FileProgress[];
  /** When the event was made, ms since the epoch. */
  at: number;
}

/** Parses a status message's JSON into a download event; null when it is another event. */
export function parseDownloadEvent(json: string): DownloadEvent | null {
  const value = parseStatusObject(json);
  if (value === null) return null;
  const event = value as Partial<DownloadEvent>;
  if (
    event.event !== "download" || typeof event.nodeId !== "string" ||
    typeof event.model !== "string" || typeof event.bytes !== "number" ||
    typeof event.totalBytes !== "number" || typeof event.done !== "boolean" ||
    !isDownloadStatus(event.status) || event.done !== (event.status === "done") ||
    (event.status === "failed") !== (typeof event.error === "string") ||
    !Array.isArray(event.files)
  ) {
    return null;
  }
  return event as DownloadEvent;
}

function isDownloadStatus(value: unknown): value is DownloadStatus {
  return value === "downloading" || value === "done" || value === "failed";
}

/**
 * The final event of a download with nothing to track: one that found every file already
 * here (done), or failed before it could list its files (the hub unreachable, the name
 * unknown): no bytes, no speed, and no ETA when failed.
 */
export function endedDownloadEvent(
  ids: { nodeId: string; model: string; repo: string },
  error?: string,
  at: number = Date.now(),
): DownloadEvent {
  return {
    event: "download",
    ...ids,
    file: "",
    bytes: 0,
    totalBytes: 0,
    speed: 0,
    eta: error === undefined ? 0 : null,
    status: error === undefined ? "done" : "failed",
    done: error === undefined,
    ...(error === undefined ? {} : { error }),
    files: [],
    at,
  };
}

/** Fewest ms between two events of one download, except when a file or the download ends. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Tracks one model download and reports it through `emit`, at most every
 * {@linkcode PROGRESS_INTERVAL_MS} and whenever a file completes or the download ends.
 */
export class DownloadTracker {
  #base: Omit<
    DownloadEvent,
    "file" | "bytes" | "totalBytes" | "speed" | "eta" | "status" | "done" | "files" | "at"
  >;
  #emit: (event: DownloadEvent) => void;
  #now: () => number;
  #files = new Map<string, FileProgress>();
  #baseline = new Map<string, number>();
  #started: number;
  #lastEmit = -Infinity;
  #lastFile = "";

  /** Starts tracking; `now` is a clock in ms (tests pass a fake one). */
  constructor(
    ids: { nodeId: string; model: string; repo: string },
    emit: (event: DownloadEvent) => void,
    now: () => number = Date.now,
  ) {
    this.#base = { event: "download", ...ids };
    this.#emit = emit;
    this.#now = now;
    this.#started = now();
  }

  /** Adds a file to the download with its size. */
  add(file: string, totalBytes: number): void {
    if (!this.#files.has(file)) {
      this.#files.set(file, { file, bytes: 0, totalBytes, done: false });
    }
  }

  /** The bytes of `file` present now. */
  update(file: string, bytes: number): void {
    const progress = this.#files.get(file);
    if (progress === undefined) return;
    if (!this.#baseline.has(file)) this.#baseline.set(file, bytes);
    progress.bytes = bytes;
    this.#lastFile = file;
    if (this.#now() - this.#lastEmit >= PROGRESS_INTERVAL_MS) this.#report("downloading");
  }

  /** `file` is complete. */
  complete(file: string): void {
    const progress = this.#files.get(file);
    if (progress === undefined) return;
    progress.bytes = progress.totalBytes;
    progress.done = true;
    this.#lastFile = file;
    this.#report("downloading");
  }

  /** The download ended, with the error that stopped it if any. */
  finish(error?: Error): void {
    this.#report(error === undefined ? "done" : "failed", error?.message);
  }

  /** The current state as an event; a failed one has no speed and no ETA. */
  snapshot(status: DownloadStatus = "downloading", error?: string): DownloadEvent {
    const files = [...this.#files.values()].map((f) => ({ ...f }));
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    const totalBytes = files.reduce((sum, f) => sum + f.totalBytes, 0);
    let fetched = 0;
    for (const f of files) {
      fetched += Math.max(0, f.bytes - (this.#baseline.get(f.file) ?? f.bytes));
    }
    const now = this.#now();
    const seconds = (now - this.#started) / 1000;
    const failed = status === "failed";
    const speed = seconds > 0 && !failed ? Math.round(fetched / seconds) : 0;
    const left = totalBytes - bytes;
    const eta = failed ? null : left <= 0 ? 0 : speed > 0 ? Math.ceil(left / speed) : null;
    return {
      ...this.#base,
      file: this.#lastFile,
      bytes,
      totalBytes,
      speed,
      eta,
      status,
      done: status === "done",
      ...(failed ? { error: error ?? "Download failed" } : {}),
      files,
      at: now,
    };
  }

  #report(status: DownloadStatus, error?: string): void {
    this.#lastEmit = this.#now();
    this.#emit(this.snapshot(status, error));
  }
}
