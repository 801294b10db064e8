import { graphemes, type Line, printable, type Span, type Style } from "./styled_text.ts";

interface Cell {
  /** The grapheme; "" for the second cell of a wide one. */
  text: string;
  style?: Style;
}

/**
 * A grid of cells to draw on (the ring of nodes): text written at a position replaces
 * what was there, wide characters take two cells, and nothing is drawn outside the grid.
 */
export class Canvas {
  readonly width: number;
  readonly height: number;
  #rows: Cell[][];

  /** An empty canvas of `width` × `height` cells. */
  constructor(width: number, height: number) {
    this.width = Math.max(0, width);
    this.height = Math.max(0, height);
    this.#rows = Array.from(
      { length: this.height },
      () => Array.from({ length: this.width }, () => ({ text: " " })),
    );
  }

  /** Writes text from column `x` of row `y`; returns the column after it. */
  put(x: number, y: number, text: string, style?: Style): number {
    if (y < 0 || y >= this.height) return x;
    const row = this.#rows[y];
    for (const g of graphemes(printable(text))) {
      if (g.width === 0) continue;
      if (x >= 0 && x + g.width <= this.width) {
        this.#clear(row, x);
        if (g.width === 2) this.#clear(row, x + 1);
        row[x] = { text: g.text, style };
        if (g.width === 2) row[x + 1] = { text: "", style };
      }
      x += g.width;
    }
    return x;
  }

  /** Writes spans one after the other from (x, y). */
  putSpans(x: number, y: number, spans: readonly Span[]): number {
    for (const span of spans) x = this.put(x, y, span.text, span.style);
    return x;
  }

  /** The canvas as lines of exactly `width` cells. */
  lines(): Line[] {
    return this.#rows.map((row) => {
      const line: Line = [];
      for (const cell of row) {
        if (cell.text === "") continue;
        const last = line.at(-1);
        if (last !== undefined && sameStyle(last.style, cell.style)) last.text += cell.text;
        else line.push({ text: cell.text, style: cell.style });
      }
      return line;
    });
  }

  /** Blanks the wide character a cell belongs to, so no half of one is left behind. */
  #clear(row: Cell[], x: number): void {
    if (row[x].text === "" && x > 0) row[x - 1] = { text: " " };
    if (row[x + 1]?.text === "") row[x + 1] = { text: " " };
  }
}

function sameStyle(a: Style | undefined, b: Style | undefined): boolean {
  return a?.fg === b?.fg && a?.bold === b?.bold && a?.dim === b?.dim &&
    a?.inverse === b?.inverse;
}
