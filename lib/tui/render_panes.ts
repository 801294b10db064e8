import { formatMemory, formatTflops } from "./format.ts";
import { fitLine, type Line, type Span, spansWidth, spread } from "./styled_text.ts";
import type { TuiNode } from "./view_model.ts";

/** A section title: "── Requests ───────── 1 running ─". */
export function titleLine(title: string, width: number, note = ""): Line {
  const left: Span[] = [{ text: "── ", style: { fg: "blue" } }, {
    text: title,
    style: { bold: true },
  }, { text: " " }];
  const right: Span[] = note === "" ? [] : [{ text: ` ${note} `, style: { dim: true } }, {
    text: "─",
    style: { fg: "blue" },
  }];
  const line = spread(left, right, width);
  return line.map((span) =>
    span.style === undefined && /^ {2,}$/.test(span.text)
      ? { text: "─".repeat(span.text.length), style: { fg: "blue" } }
      : span
  );
}

/** Lowest and highest TFLOPS of the "GPU poor ↔ GPU rich" bar (log scale). */
const POOR_TFLOPS = 0.1;
const RICH_TFLOPS = 1000;
/** Narrowest and widest bar, and the cells of its two labels. */
const BAR_MIN = 8;
const BAR_MAX = 30;
const BAR_LABELS = "GPU poor  GPU rich".length;

/**
 * The cluster's total memory and TFLOPS with exo's "GPU poor ↔ GPU rich" bar: on one
 * line when the bar fits beside the figures, else (when `maxLines` allows) on a line of
 * its own under them.
 */
export function totalLines(nodes: readonly TuiNode[], width: number, maxLines = 1): Line[] {
  const alive = nodes.filter((node) => node.alive);
  const memory = alive.reduce((sum, node) => sum + node.memoryMb, 0);
  const tflops = alive.reduce((sum, node) => sum + node.tflops, 0);
  const left: Span[] = [
    { text: "Cluster ", style: { bold: true } },
    { text: `${alive.length} node${alive.length === 1 ? "" : "s"} · ${formatMemory(memory)} · ` },
    { text: `${formatTflops(tflops)} TFLOPS`, style: { bold: true } },
  ];
  const beside = width - spansWidth(left) - 2 - BAR_LABELS;
  if (beside >= BAR_MIN) return [spread(left, gpuBar(tflops, Math.min(BAR_MAX, beside)), width)];
  const below = width - BAR_LABELS;
  if (maxLines < 2 || below < BAR_MIN) return [fitLine(left, width)];
  return [fitLine(left, width), fitLine(gpuBar(tflops, Math.min(BAR_MAX, below)), width)];
}

/** Lines {@linkcode totalLines} takes at `width` when it may take two. */
export function totalHeight(nodes: readonly TuiNode[], width: number): number {
  return totalLines(nodes, width, 2).length;
}

function gpuBar(tflops: number, width: number): Span[] {
  const fraction = tflops <= POOR_TFLOPS ? 0 : Math.min(
    1,
    Math.log10(tflops / POOR_TFLOPS) / Math.log10(RICH_TFLOPS / POOR_TFLOPS),
  );
  const filled = Math.round(fraction * width);
  return [
    { text: "GPU poor ", style: { dim: true } },
    {
      text: "█".repeat(filled),
      style: { fg: fraction < 0.4 ? "red" : fraction < 0.7 ? "yellow" : "green" },
    },
    { text: "░".repeat(width - filled), style: { dim: true } },
    { text: " GPU rich", style: { dim: true } },
  ];
}
