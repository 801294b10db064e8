import stringWidth from "string-width";

/** The colours the view uses (the terminal's own palette, so themes apply). */
export type Color = "red" | "green" | "yellow" | "blue" | "magenta" | "cyan" | "gray";

/** How a span of text looks. */
export interface Style {
  fg?: Color;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

/** A run of text in one style. */
export interface Span {
  text: string;
  style?: Style;
}

/** One screen line: spans whose cells add up to the screen's width. */
export type Line = Span[];

const segmenter = new Intl.Segmenter();

/** Cells a text takes on a terminal: wide characters (CJK, emoji) take two, controls none. */
export function cellWidth(text: string): number {
  return stringWidth(text);
}

/** The text's graphemes (user-perceived characters) with their cell widths. */
export function graphemes(text: string): { text: string; width: number }[] {
  return [...segmenter.segment(text)].map(({ segment }) => ({
    text: segment,
    width: stringWidth(segment),
  }));
}

/** Replaces control characters (newlines, tabs, escapes) with spaces: a peer's text is shown as is. */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

/**
 * Cuts or pads spans to exactly `width` cells. A cut line ends with "…"; a wide character
 * that would straddle the edge is replaced by a space.
 */
export function fitLine(spans: readonly Span[], width: number): Line {
  const out = clip(spans, width);
  const used = spansWidth(out);
  if (used < width) out.push({ text: " ".repeat(width - used) });
  return out;
}

/** Cuts spans to at most `width` cells (ending with "…" when cut), without padding. */
export function clip(spans: readonly Span[], width: number): Line {
  const out: Line = [];
  let used = 0;
  const cut = spansWidth(spans) > width;
  const room = cut ? width - 1 : width;
  for (const span of spans) {
    if (used >= room) break;
    let text = "";
    for (const g of graphemes(printable(span.text))) {
      if (used + g.width > room) break;
      text += g.text;
      used += g.width;
    }
    if (text !== "") out.push({ text, style: span.style });
  }
  if (cut && width > 0) {
    out.push({ text: " ".repeat(room - used) + "…", style: out.at(-1)?.style });
  }
  return out;
}

/** Cells the spans take. */
export function spansWidth(spans: readonly Span[]): number {
  return spans.reduce((sum, span) => sum + cellWidth(printable(span.text)), 0);
}

/** The text of a line without styles (what a test or capture-pane sees). */
export function lineText(line: Line): string {
  return line.map((span) => span.text).join("");
}

/** Spans padded between a left and a right part, right part kept whole when it fits. */
export function spread(left: readonly Span[], right: readonly Span[], width: number): Line {
  const rightWidth = spansWidth(right);
  if (rightWidth >= width) return fitLine(left, width);
  return [...fitLine(left, width - rightWidth), ...fitLine(right, rightWidth)];
}

const FG: Record<Color, number> = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
};

/** A line as terminal output: SGR colour codes around each styled span. */
export function lineToAnsi(line: Line): string {
  let out = "";
  for (const span of line) {
    const codes: number[] = [];
    const style = span.style;
    if (style?.bold) codes.push(1);
    if (style?.dim) codes.push(2);
    if (style?.inverse) codes.push(7);
    if (style?.fg) codes.push(FG[style.fg]);
    out += codes.length === 0 ? span.text : `\x1b[${codes.join(";")}m${span.text}\x1b[0m`;
  }
  return out;
}
