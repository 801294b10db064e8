import { Canvas } from "./canvas.ts";
import { engineLabels } from "./engine_label.ts";
import { formatMemory, formatRtt, formatTflops, shortChip } from "./format.ts";
import { layersText, renderNodeList } from "./render_node_list.ts";
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
/** Widest box for a row of auto's figures ("cpu float32 · auto 5579 tok/s (webgpu out)"). */
const ENGINE_BOX_MAX = 46;
/** Rows of a node box, without the row of its engine. */
export const BOX_HEIGHT = 5;

/**
 * The nodes in `width` × `height` cells: boxes on a ring when they fit without
 * overlapping (with a row for each node's engine when there is room for it), else one
 * line per node, this node first; the nodes that find no line are counted on the last.
 * Always exactly `height` lines.
 */
export function renderNodes(nodes: readonly TuiNode[], width: number, height: number): Line[] {
  const ring = bestRing(nodes, width, height);
  const lines = ring === null
    ? renderNodeList(nodes, width, height)
    : drawRing(ring, width, height);
  while (lines.length < height) lines.push(fitLine([], width));
  return lines.slice(0, height);
}

/** Whether the nodes fit on a ring of `width` × `height` cells (else they are a list). */
export function ringFits(nodes: readonly TuiNode[], width: number, height: number): boolean {
  return bestRing(nodes, width, height) !== null;
}

/**
 * Whether the ring in `width` × `height` cells gives its boxes a row for their engines:
 * the line a screen grants for it when it has one to spare.
 */
export function engineRowsFit(nodes: readonly TuiNode[], width: number, height: number): boolean {
  return bestRing(nodes, width, height)?.engines === true;
}

/**
 * The ring to draw: with a row for each node's engine when some node has loaded a shard
 * and the boxes fit (as wide as auto's figures want where they can be, else narrower down
 * to what the other rows want, the engines then in fewer words); else without that row.
 */
function bestRing(nodes: readonly TuiNode[], width: number, height: number): Ring | null {
  const base = Math.min(BOX_MAX, Math.max(BOX_MIN, ...nodes.map(boxWidthFor)));
  if (height > BOX_HEIGHT && nodes.some((node) => node.engine !== null)) {
    const full = Math.min(ENGINE_BOX_MAX, Math.max(base, ...nodes.map(engineWidthFor)));
    for (let wanted = full; wanted >= base; wanted--) {
      const ring = ringLayout(nodes, width, height, BOX_HEIGHT + 1, wanted);
      if (ring !== null) return ring;
    }
  }
  return ringLayout(nodes, width, height, BOX_HEIGHT, base);
}

interface Placement {
  node: TuiNode;
  x: number;
  y: number;
}

interface Ring {
  placed: Placement[];
  boxWidth: number;
  boxHeight: number;
  /** The boxes have a row for the node's engine. */
  engines: boolean;
  /** The ellipse the boxes sit on (centre of the boxes). */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/**
 * Where boxes of `boxHeight` rows go, or null when they do not fit. A box is as wide as
 * `wanted` where there is room, never below BOX_MIN; two nodes keep room between them for
 * the link and its round trip.
 */
function ringLayout(
  nodes: readonly TuiNode[],
  width: number,
  height: number,
  boxHeight: number,
  wanted: number,
): Ring | null {
  const n = nodes.length;
  if (n === 0 || height < boxHeight) return null;
  const share = n === 2
    ? Math.floor((width - cellWidth(linkText(nodes[0], nodes[1])) - 4) / 2)
    : Math.floor(width / (n === 1 ? 1 : n <= 4 ? 2 : 3)) - 2;
  const boxWidth = Math.min(wanted, share);
  if (boxWidth < BOX_MIN) return null;
  const cx = (width - boxWidth) / 2;
  const cy = (height - boxHeight) / 2;
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
  if (overlaps(placed, boxWidth, boxHeight)) return null;
  return { placed, boxWidth, boxHeight, engines: boxHeight > BOX_HEIGHT, cx, cy, rx, ry };
}

function drawRing(ring: Ring, width: number, height: number): Line[] {
  const canvas = new Canvas(width, height);
  const { placed, boxWidth, boxHeight } = ring;
  if (placed.length === 2) drawLink(canvas, placed, boxWidth);
  else if (placed.length > 2) {
    drawEllipse(canvas, ring.cx + boxWidth / 2, ring.cy + boxHeight / 2, ring.rx, ring.ry);
  }
  for (const p of placed) drawBox(canvas, p, boxWidth, ring.engines);
  return canvas.lines();
}

function overlaps(placed: readonly Placement[], boxWidth: number, boxHeight: number): boolean {
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i];
      const b = placed[j];
      const apartX = Math.abs(a.x - b.x) >= boxWidth + 1;
      const apartY = Math.abs(a.y - b.y) >= boxHeight;
      if (!apartX && !apartY) return true;
    }
  }
  return false;
}

/** The label of the link between two nodes: its round trip, "no link", or "" unknown. */
function linkText(a: TuiNode, b: TuiNode): string {
  if (!a.alive || !b.alive) return " no link ";
  const rtt = a.rttMs ?? b.rttMs;
  return rtt === null ? "" : ` ${formatRtt(rtt)} `;
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
  const label = linkText(a.node, b.node);
  if (label !== "" && cellWidth(label) + 4 <= length) {
    canvas.put(from + Math.floor((length - cellWidth(label)) / 2), y, label, { dim: true });
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

/** A box's title: " id · this node ◆ ". */
function boxTitle(node: TuiNode): Span[] {
  const title: Span[] = [
    { text: " " },
    { text: node.id, style: { bold: true, fg: node.self ? "cyan" : undefined } },
  ];
  if (node.self) title.push({ text: " · this node", style: { fg: "cyan" } });
  if (node.computing) title.push({ text: " ◆", style: { fg: "yellow", bold: true } });
  title.push({ text: " " });
  return title;
}

/**
 * A box's three rows: chip, memory and TFLOPS, layers and round trip (or unreachable); the
 * engine's row, when the box has one, goes under them.
 */
function boxRows(node: TuiNode): Span[][] {
  return [
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
}

/** The width a node's box needs for its title and rows to show whole. */
function boxWidthFor(node: TuiNode): number {
  const title = spansWidth(boxTitle(node)) + 4; // "╭─", "─╮"
  const rows = Math.max(...boxRows(node).map((row) => spansWidth(row))) + 4; // "│ ", " │"
  return Math.max(title, rows);
}

/** The width a node's box needs for its engine's longest label. */
function engineWidthFor(node: TuiNode): number {
  return node.engine === null ? 0 : spansWidth(engineLabels(node.engine)[0]) + 4;
}

/** A box's engine row: the longest label within `room` cells, or a note without a shard. */
function engineRow(node: TuiNode, room: number): Span[] {
  if (!node.alive) return [];
  if (node.engine === null) return [{ text: "no shard loaded", style: { dim: true } }];
  const labels = engineLabels(node.engine);
  return labels.find((label) => spansWidth(label) <= room) ?? labels[labels.length - 1];
}

function drawBox(
  canvas: Canvas,
  { node, x, y }: Placement,
  width: number,
  engines: boolean,
): void {
  const border: Style = node.computing
    ? { fg: "yellow", bold: true }
    : node.alive
    ? { fg: node.self ? "cyan" : "green", bold: node.self }
    : { fg: "red" };
  const inner = width - 2;
  const head = clip(boxTitle(node), inner - 1);
  canvas.putSpans(x, y, [
    { text: "╭─", style: border },
    ...head,
    { text: `${"─".repeat(inner - 1 - spansWidth(head))}╮`, style: border },
  ]);
  const rows = boxRows(node);
  if (engines) rows.push(engineRow(node, width - 4));
  rows.forEach((row, i) => {
    canvas.put(x, y + 1 + i, "│", border);
    canvas.putSpans(x + 1, y + 1 + i, fitLine([{ text: " " }, ...row], inner));
    canvas.put(x + width - 1, y + 1 + i, "│", border);
  });
  canvas.put(x, y + rows.length + 1, `╰${"─".repeat(inner)}╯`, border);
}
