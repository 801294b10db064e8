import { graphemes, printable } from "./styled_text.ts";

export { formatMemory, formatSize } from "../format/sizes.ts";

/** TFLOPS with two significant decimals at most: "0.17", "13.5", "216". */
export function formatTflops(tflops: number): string {
  if (tflops >= 100) return tflops.toFixed(0);
  if (tflops >= 10) return tflops.toFixed(1);
  return tflops.toFixed(2);
}

/** A speed of a few figures, for a node's line: "41", "5579", "2.4" below 10. */
export function formatRate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : perSecond.toFixed(0);
}

/** A round trip in ms: "0.42 ms", "12 ms". */
export function formatRtt(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

/** A chip name without trademark marks and clock suffixes: "Intel Xeon Processor". */
export function shortChip(chip: string): string {
  return chip.replace(/\((?:R|TM|tm|r)\)/g, "").replace(/\s+CPU\s*@.*$/, "").replace(
    /\s*@\s*[\d.]+\s*GHz$/i,
    "",
  ).replace(/\s+/g, " ").trim();
}

/** Collapses whitespace and control characters to single spaces. */
export function oneLine(text: string): string {
  return printable(text).replace(/\s+/g, " ").trim();
}

/**
 * A text wrapped at spaces into lines of at most `width` cells (the first line
 * `firstWidth`, when something stands before it); a word longer than a line is cut
 * across lines.
 */
export function wrapText(text: string, width: number, firstWidth = width): string[] {
  if (width <= 0 || firstWidth <= 0) return [];
  const lines: string[] = [];
  let current = "";
  let used = 0;
  const limit = () => lines.length === 0 ? firstWidth : width;
  for (const word of oneLine(text).split(" ")) {
    if (word === "") continue;
    const parts = graphemes(word);
    const size = parts.reduce((sum, g) => sum + g.width, 0);
    if (used > 0 && used + 1 + size <= limit()) {
      current += " " + word;
      used += 1 + size;
      continue;
    }
    if (used > 0) lines.push(current);
    current = "";
    used = 0;
    for (const g of parts) {
      if (used > 0 && used + g.width > limit()) {
        lines.push(current);
        current = "";
        used = 0;
      }
      current += g.text;
      used += g.width;
    }
  }
  if (current !== "") lines.push(current);
  return lines;
}

/**
 * The start of a text wrapped into at most `maxLines` lines of `width` cells; when more
 * is left, the last line ends with "…" (so a warning keeps its cause readable).
 */
export function headLines(
  text: string,
  width: number,
  maxLines: number,
  firstWidth = width,
): string[] {
  if (maxLines <= 0) return [];
  const lines = wrapText(text, width, firstWidth);
  if (lines.length <= maxLines) return lines;
  // The last line takes as much of the rest as fits, cut within a word if need be.
  const kept = lines.slice(0, maxLines - 1);
  const room = maxLines === 1 ? firstWidth : width;
  let last = "";
  let used = 0;
  for (const g of graphemes(lines.slice(maxLines - 1).join(" "))) {
    if (used + g.width > room - 1) break;
    last += g.text;
    used += g.width;
  }
  kept.push(last.trimEnd() + "…");
  return kept;
}

/**
 * The end of a text wrapped at spaces into lines of `width` cells: the last `maxLines`
 * of them, so a streaming reply shows its newest words.
 */
export function tailLines(text: string, width: number, maxLines: number): string[] {
  if (maxLines <= 0) return [];
  return wrapText(text, width).slice(-maxLines);
}
