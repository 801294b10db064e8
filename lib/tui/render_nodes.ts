import { Canvas } from "./canvas.ts";
import { formatMemory, formatRtt, formatTflops, shortChip } from "./format.ts";
import {
  cellWidth,
  clip,
  fitLine,
  type Line,
  type Span,
  spansWidth,
  type Style,
} from "./styled_text.ts";
import type { TuiNode } from "./view_model.ts";

/** Widest and narrowest node box of the ring. */
const BOX_MAX = 28;
const BOX_MIN = 20;
const BOX_HEIGHT = 5;

/**
 * The nodes in `width` × `height` cells: boxes on a ring when they fit without
 * overlapping, else one line per node. Always exactly `height` lines.
 */
export function renderNodes(nodes: readonly TuiNode[], width: number, height: number): Line[] {
  const ring = renderRing(nodes, width, height);
  if (ring !== null) return ring;
  const idWidth = Math.min(24, Math.max(4, ...nodes.map((node) => cellWidth(node.id))));
  const lines = nodes.map((node) => fitLine(nodeListLine(node, idWidth), width));
  if (lines.length > height) {
    const hidden = lines.length - height + 1;
    lines.length = height - 1;
    lines.push(fitLine([{ text: `  … ${hidden} more nodes`, style: { dim: true } }], width));
  }
  while (lines.length < height) lines.push(fitLine([], width));
  return lines.slice(0, height);
}

/**
 * One node on one line, in columns: state, id, tag (this node, computing, unreachable),
 * layers, memory, TFLOPS, round trip, chip.
 */
export function nodeListLine(node: TuiNode, idWidth: number): Span[] {
  const tag: Span = !node.alive
    ? { text: "unreachable", style: { fg: "red", bold: true } }
    : node.computing
    ? { text: "◆ computing", style: { fg: "yellow", bold: true } }
    : node.self
    ? { text: "this node", style: { fg: "cyan" } }
    : { text: "" };
  return [
    node.alive ? { text: " ● ", style: { fg: "green" } } : { text: " ○ ", style: { fg: "red" } },
    ...padded(
      [{ text: node.id, style: { bold: true, fg: node.self ? "cyan" : undefined } }],
      idWidth + 2,
    ),
    ...padded([tag], 13),
    ...padded([{ text: layersText(node), style: { fg: node.layers ? "magenta" : "gray" } }], 14),
    { text: `${formatMemory(node.memoryMb).padStart(8)}  ` },
    { text: `${formatTflops(node.tflops).padStart(5)} TFLOPS  ` },
    {
      text: (node.rttMs === null ? "" : formatRtt(node.rttMs)).padStart(8) + "  ",
      style: { dim: true },
    },
    { text: shortChip(node.chip), style: { dim: true } },
  ];
}

function padded(spans: Span[], width: number): Span[] {
  return fitLine(spans, width);
}

function layersText(node: TuiNode): string {
  return node.layers ? `layers ${node.layers.start}–${node.layers.end}` : "no layers";
}

interface Placement {
  node: TuiNode;
  x: number;
  y: number;
}

function renderRing(nodes: readonly TuiNode[], width: number, height: number): Line[] | null {
  const n = nodes.length;
  if (n === 0 || height < BOX_HEIGHT) return null;
  const boxWidth = Math.min(BOX_MAX, Math.floor(width / (n === 1 ? 1 : n <= 4 ? 2 : 3)) - 2);
  if (boxWidth < BOX_MIN) return null;
  const cx = (width - boxWidth) / 2;
  const cy = (height - BOX_HEIGHT) / 2;
  const rx = cx;
  const ry = cy;
  // Two nodes sit side by side; more start at the top and go round clockwise.
  const start = n === 2 ? Math.PI : -Math.PI / 2;
  const placed: Placement[] = nodes.map((node, i) => {
    const angle = start + (2 * Math.PI * i) / n;
    // Rounded first, so that sin(2π) = -2e-16 puts a box on the same row as sin(π).
    const cos = n === 1 ? 0 : Math.round(Math.cos(angle) * 1e6) / 1e6;
    const sin = n === 1 ? 0 : Math.round(Math.sin(angle) * 1e6) / 1e6;
    return { node, x: Math.round(cx + rx * cos), y: Math.round(cy + ry * sin) };
  });
  if (overlaps(placed, boxWidth)) return null;
  const canvas = new Canvas(width, height);
  if (n === 2) drawLink(canvas, placed, boxWidth);
  else if (n > 2) drawEllipse(canvas, cx + boxWidth / 2, cy + BOX_HEIGHT / 2, rx, ry);
  for (const p of placed) drawBox(canvas, p, boxWidth);
  return canvas.lines();
}

function overlaps(placed: readonly Placement[], boxWidth: number): boolean {
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i];
      const b = placed[j];
      const apartX = Math.abs(a.x - b.x) >= boxWidth + 1;
      const apartY = Math.abs(a.y - b.y) >= BOX_HEIGHT;
      if (!apartX && !apartY) return true;
    }
  }
  return false;
}

/** Two nodes side by side: a line between their boxes, with the round trip on it. */
function drawLink(canvas: Canvas, [a, b]: Placement[], boxWidth: number): void {
  const [left, right] = a.x <= b.x ? [a, b] : [b, a];
  const from = left.x + boxWidth;
  const length = right.x - from;
  const y = left.y + 2;
  if (length < 3) return;
  const up = a.node.alive && b.node.alive;
  const style: Style = up ? { fg: "blue" } : { fg: "red", dim: true };
  canvas.put(from, y, up ? `◀${"─".repeat(length - 2)}▶` : "╌".repeat(length), style);
  const rtt = [a, b].find((p) => p.node.rttMs !== null)?.node.rttMs;
  const text = !up ? "no link" : rtt === undefined || rtt === null ? null : formatRtt(rtt);
  if (text !== null) {
    const label = ` ${text} `;
    if (label.length + 4 <= length) {
      canvas.put(from + Math.floor((length - label.length) / 2), y, label, { dim: true });
    }
  }
}

function drawEllipse(canvas: Canvas, cx: number, cy: number, rx: number, ry: number): void {
  const steps = Math.max(48, Math.round(12 * (rx + ry)));
  for (let s = 0; s < steps; s++) {
    const t = (2 * Math.PI * s) / steps;
    canvas.put(Math.round(cx + rx * Math.cos(t)), Math.round(cy + ry * Math.sin(t)), "·", {
      fg: "blue",
      dim: true,
    });
  }
}

function drawBox(canvas: Canvas, { node, x, y }: Placement, width: number): void {
  const border: Style = node.computing
    ? { fg: "yellow", bold: true }
    : node.alive
    ? { fg: node.self ? "cyan" : "green", bold: node.self }
    : { fg: "red" };
  const inner = width - 2;
  const title: Span[] = [
    { text: " " },
    { text: node.id, style: { bold: true, fg: node.self ? "cyan" : undefined } },
  ];
  if (node.self) title.push({ text: " · this node", style: { fg: "cyan" } });
  if (node.computing) title.push({ text: " ◆", style: { fg: "yellow", bold: true } });
  title.push({ text: " " });
  const head = clip(title, inner - 1);
  canvas.putSpans(x, y, [
    { text: "╭─", style: border },
    ...head,
    { text: `${"─".repeat(inner - 1 - spansWidth(head))}╮`, style: border },
  ]);
  const rows: Span[][] = [
    [{ text: shortChip(node.chip), style: { dim: !node.alive } }],
    [{ text: `${formatMemory(node.memoryMb)} · ${formatTflops(node.tflops)} TFLOPS` }],
    node.alive
      ? [
        { text: layersText(node), style: { fg: node.layers ? "magenta" : "gray" } },
        ...(node.rttMs === null
          ? []
          : [{ text: ` · ${formatRtt(node.rttMs)}`, style: { dim: true } }]),
      ]
      : [{ text: "unreachable", style: { fg: "red", bold: true } }],
  ];
  rows.forEach((row, i) => {
    canvas.put(x, y + 1 + i, "│", border);
    canvas.putSpans(x + 1, y + 1 + i, fitLine([{ text: " " }, ...row], inner));
    canvas.put(x + width - 1, y + 1 + i, "│", border);
  });
  canvas.put(x, y + BOX_HEIGHT - 1, `╰${"─".repeat(inner)}╯`, border);
}
