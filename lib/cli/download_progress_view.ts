import type { Logger } from "../log/logger.ts";
import type { DownloadEvent } from "../model/download_progress.ts";
import { formatSize } from "../format/sizes.ts";

/** Seconds as "42s", "3m05s", "1h02m"; "?" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null) return "?";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/**
 * One line for a download: a bar of `width` cells, percent, bytes, speed, ETA and the
 * file that moved last, e.g.
 * `test-org/tiny [#######.......]  50% 2.00 MB/4.00 MB 1.00 MB/s ETA 2s model-00002.safetensors`;
 * a failed one has no bar: `test-org/tiny failed after 2.00 MB of 4.00 MB: <reason>`.
 */
export function formatDownloadLine(event: DownloadEvent, width = 24): string {
  if (event.status === "failed") {
    const got = event.totalBytes > 0
      ? ` after ${formatSize(event.bytes)} of ${formatSize(event.totalBytes)}`
      : "";
    return `${event.model} failed${got}: ${event.error ?? "no reason given"}`;
  }
  const known = event.totalBytes > 0 || event.done;
  const fraction = event.totalBytes > 0 ? Math.min(1, event.bytes / event.totalBytes) : 1;
  // Never a full bar before the end: 99.6% is drawn as 99%.
  const shown = event.done ? 1 : Math.min(fraction, (width - 1) / width);
  const filled = known ? Math.round(shown * width) : 0;
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const percent = known
    ? `${event.done ? 100 : Math.min(99, Math.floor(fraction * 100))}%`.padStart(4)
    : "   ?";
  const state = event.done
    ? "done"
    : `${formatSize(event.speed)}/s ETA ${formatEta(event.eta)} ${event.file}`;
  return `${event.model} [${bar}] ${percent} ${formatSize(event.bytes)}/${
    known ? formatSize(event.totalBytes) : "?"
  } ${state}`.trimEnd();
}

/** Fewest ms between two plain log lines of one download. */
const LOG_INTERVAL_MS = 5000;

/**
 * Shows this node's downloads on stderr: a redrawn progress bar on a terminal, else a log
 * line every few seconds and when a download ends.
 */
export class DownloadProgressView {
  #terminal: boolean;
  #write: (text: string) => void;
  #logger: Logger;
  #lastLog = new Map<string, number>();
  #drawn = false;

  /** `write` puts text on stderr as is; `terminal` says whether stderr is a TTY. */
  constructor(options: { terminal: boolean; write: (text: string) => void; logger: Logger }) {
    this.#terminal = options.terminal;
    this.#write = options.write;
    this.#logger = options.logger;
  }

  /** Shows an event. */
  show(event: DownloadEvent): void {
    if (this.#terminal) {
      const ended = event.status !== "downloading";
      this.#write(`\r\x1b[2K${formatDownloadLine(event)}${ended ? "\n" : ""}`);
      this.#drawn = !ended;
      return;
    }
    const now = event.at;
    const last = this.#lastLog.get(event.model) ?? -Infinity;
    const ended = event.status !== "downloading";
    if (!ended && now - last < LOG_INTERVAL_MS) return;
    this.#lastLog.set(event.model, now);
    const line = `Download ${formatDownloadLine(event, 20)}`;
    if (event.status === "failed") this.#logger.warn(line);
    else this.#logger.info(line);
    if (ended) this.#lastLog.delete(event.model);
  }

  /** Ends a bar left drawn, so the next output starts on its own line. */
  close(): void {
    if (this.#drawn) this.#write("\n");
    this.#drawn = false;
  }
}
