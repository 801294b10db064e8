import type { LogLevel } from "../log/logger.ts";
import type { TuiLogLine } from "./view_model.ts";

/** Lines the pane keeps. */
const KEEP = 50;

/**
 * What the view shows of the log: the last {@linkcode KEEP} warnings and errors (the log
 * pane) and, apart from them so they never push a warning out, the last info lines (the
 * activity a wide terminal has room for), each with its local time. Fed by the logger's
 * sink while the view is up.
 */
export class LogPane {
  #lines: TuiLogLine[] = [];
  #activity: TuiLogLine[] = [];
  #now: () => Date;

  /** `now` is the clock (tests pass a fixed one). */
  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** Takes a logged message: warnings and errors, and info lines as activity. */
  add(level: LogLevel, message: string): void {
    if (level === "debug") return;
    const kept = level === "info" ? this.#activity : this.#lines;
    kept.push({ time: this.#now().toTimeString().slice(0, 8), level, text: message });
    if (kept.length > KEEP) kept.splice(0, kept.length - KEEP);
  }

  /** The kept warnings and errors, oldest first. */
  lines(): TuiLogLine[] {
    return [...this.#lines];
  }

  /** The kept info lines, oldest first. */
  activity(): TuiLogLine[] {
    return [...this.#activity];
  }
}
