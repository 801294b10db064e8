import { graphemes, printable } from "./styled_text.ts";

/** Memory in MB as GB with one decimal: "32.0 GB". */
export function formatGb(memoryMb: number): string {
  return `${(memoryMb / 1024).toFixed(1)} GB`;
}

/** TFLOPS with two significant decimals at most: "0.17", "13.5", "216". */
export function formatTflops(tflops: number): string {
  if (tflops >= 100) return tflops.toFixed(0);
  if (tflops >= 10) return tflops.toFixed(1);
  return tflops.toFixed(2);
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
 * The end of a text wrapped at spaces into lines of `width` cells (a word longer than a
 * line is cut): the last `maxLines` of them, so a streaming reply shows its newest words.
 */
export function tailLines(text: string, width: number, maxLines: number): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const lines: string[] = [];
  let current = "";
  let used = 0;
  for (const word of oneLine(text).split(" ")) {
    if (word === "") continue;
    const parts = graphemes(word);
    const size = parts.reduce((sum, g) => sum + g.width, 0);
    if (used > 0 && used + 1 + size <= width) {
      current += " " + word;
      used += 1 + size;
      continue;
    }
    if (used > 0) lines.push(current);
    current = "";
    used = 0;
    for (const g of parts) {
      if (used + g.width > width) {
        lines.push(current);
        current = "";
        used = 0;
      }
      current += g.text;
      used += g.width;
    }
  }
  if (current !== "") lines.push(current);
  return lines.slice(-maxLines);
}
