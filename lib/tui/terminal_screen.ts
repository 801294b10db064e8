import { type Line, lineToAnsi } from "./styled_text.ts";
import type { ScreenSize } from "./view_model.ts";

/** Enter the alternate screen, hide the cursor, no autowrap (a full last cell never scrolls). */
const OPEN = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[2J";
/** Undo OPEN: styles reset, autowrap and cursor back, the normal screen restored. */
const CLOSE = "\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l";
/** Synchronized update (terminals that know it show the frame at once; others ignore it). */
const BEGIN_FRAME = "\x1b[?2026h";
const END_FRAME = "\x1b[?2026l";

/**
 * The terminal's alternate screen, drawn a frame at a time: only the lines that changed
 * are written, each exactly as wide as the screen, inside one synchronized update, so the
 * view never flickers. `close` restores the terminal and is safe to call twice.
 */
export class TerminalScreen {
  #write: (text: string) => void;
  #previous: string[] = [];
  #size: ScreenSize | null = null;
  #open = false;

  /** `write` puts text on the terminal as is, synchronously. */
  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Switches to the alternate screen. */
  open(): void {
    if (this.#open) return;
    this.#open = true;
    this.#write(OPEN);
  }

  /** Whether the screen is open. */
  get isOpen(): boolean {
    return this.#open;
  }

  /**
   * Draws a frame of `size`: the lines that differ from the last frame, or all of them
   * after a resize or when `full` (to repaint over anything else that reached the screen).
   * Returns the number of lines written.
   */
  draw(lines: readonly Line[], size: ScreenSize, full = false): number {
    if (!this.#open) return 0;
    const resized = this.#size === null || this.#size.columns !== size.columns ||
      this.#size.rows !== size.rows;
    const text = lines.map(lineToAnsi);
    let out = resized ? "\x1b[2J" : "";
    let written = 0;
    text.forEach((line, row) => {
      if (!resized && !full && this.#previous[row] === line) return;
      out += `\x1b[${row + 1};1H${line}`;
      written++;
    });
    this.#previous = text;
    this.#size = size;
    if (out !== "") this.#write(BEGIN_FRAME + out + END_FRAME);
    return written;
  }

  /** Leaves the alternate screen and restores the cursor; idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#write(CLOSE);
  }
}
