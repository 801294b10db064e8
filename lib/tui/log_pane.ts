import type { LogLevel } from "../log/logger.ts";
import type { TuiLogLine } from "./view_model.ts";

/** Lines the pane keeps. */
const KEEP = 50;

/**
 * The warnings and errors the log pane shows: the last {@linkcode KEEP}, each with its
 * local time. Fed by the logger's sink while the view is up.
 */
export class LogPane {
  #lines: TuiLogLine[] = [];
  #now: () => Date;

  /** `now` is the clock (tests pass a fixed one). */
  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** Takes a logged message; keeps warnings and errors. */
  add(level: LogLevel, message: string): void {
    if (level !== "warn" && level !== "error") return;
    const time = this.#now().toTimeString().slice(0, 8);
    this.#lines.push({ time, level, text: message });
    if (this.#lines.length > KEEP) this.#lines.splice(0, this.#lines.length - KEEP);
  }

  /** The kept lines, oldest first. */
  lines(): TuiLogLine[] {
    return [...this.#lines];
  }
}
