import { Canvas } from "./canvas.ts";
import { formatMemory, formatRtt, formatTflops, shortChip } from "./format.ts";
import {
  cellWidth,
  clip,
  fitLine,
  type Line,
  type Span,
  spansWidth,
  spread,
  type Style,
} from "./styled_text.ts";
import type { TuiNode } from "./view_model.ts";

/** Widest and narrowest node box of the ring. */
const BOX_MAX = 28;
const BOX_MIN = 20;
/** Rows of a node box. */
export const BOX_HEIGHT = 5;

/**
 * The nodes in `width` × `height` cells: boxes on a ring when they fit without
 * overlapping, else one line per node, this node first; the nodes that find no line are
 * counted on the last. Always exactly `height` lines.
 */
export function renderNodes(nodes: readonly TuiNode[], width: number, height: number): Line[] {
  const ring = ringLayout(nodes, width, height);
  const lines = ring === null ? renderList(nodes, width, height) : drawRing(ring, width, height);
  while (lines.length < height) lines.push(fitLine([], width));
  return lines.slice(0, height);
}

/** Whether the nodes fit on a ring of `width` × `height` cells (else they are a list). */
export function ringFits(nodes: readonly TuiNode[], width: number, height: number): boolean {
  return ringLayout(nodes, width, height) !== null;
}

function renderList(nodes: readonly TuiNode[], width: number, height: number): Line[] {
  if (height <= 0) return [];
  const ordered = [...nodes.filter((node) => node.self), ...nodes.filter((node) => !node.self)];
  const idWidth = Math.min(24, Math.max(4, ...nodes.map((node) => cellWidth(node.id))));
  const columns = listColumns(width, idWidth);
  const line = (node: TuiNode) => columns.flatMap((column) => column.spans(node));
  if (ordered.length <= height) return ordered.map((node) => fitLine(line(node), width));
  if (height === 1) {
    // No room for a line of its own: the count goes at the end of this node's line.
    const more = ordered.length - 1;
    return [spread(line(ordered[0]), [{ text: ` +${more} more `, style: { dim: true } }], width)];
  }
  const shown = ordered.slice(0, height - 1);
  const hidden = ordered.slice(height - 1);
  const unreachable = hidden.filter((node) => !node.alive).length;
  const note = `  … ${hidden.length} more node${hidden.length === 1 ? "" : "s"}` +
    (unreachable > 0 ? ` (${unreachable} unreachable)` : "");
  return [
    ...shown.map((node) => fitLine(line(node), width)),
    fitLine([{ text: note, style: { dim: true } }], width),
  ];
}

interface Column {
  width: number;
  /** Lower comes first when the line is short of room. */
  rank: number;
  spans(node: TuiNode): Span[];
}

/**
 * The columns of a node's line that fit in `width`, in their order on the line: state,
 * id, tag (this node, computing, unreachable), layers, memory, TFLOPS, round trip, chip.
 * When not all fit, the round trip goes before TFLOPS and the chip comes last.
 */
function listColumns(width: number, idWidth: number): Column[] {
  const all: Column[] = [
    {
      width: 3,
      rank: 0,
      spans: (node) => [
        node.alive
          ? { text: " ● ", style: { fg: "green" } }
          : { text: " ○ ", style: { fg: "red" } },
      ],
    },
    {
      width: idWidth + 2,
      rank: 0,
      spans: (
        node,
      ) => [{ text: node.id, style: { bold: true, fg: node.self ? "cyan" : undefined } }],
    },
    { width: 13, rank: 1, spans: (node) => [tag(node)] },
    {
      width: 14,
      rank: 2,
      spans: (
        node,
      ) => [{ text: layersText(node), style: { fg: node.layers ? "magenta" : "gray" } }],
    },
    { width: 9, rank: 3, spans: (node) => [{ text: formatMemory(node.memoryMb).padStart(7) }] },
    {
      width: 14,
      rank: 5,
      spans: (node) => [{ text: `${formatTflops(node.tflops).padStart(5)} TFLOPS` }],
    },
    {
      width: 9,
      rank: 4,
      spans: (node) => [{
        text: (node.rttMs === null ? "" : formatRtt(node.rttMs)).padStart(7),
        style: { dim: true },
      }],
    },
  ];
  let room = width;
  const kept = new Set<Column>();
  for (const column of [...all].sort((a, b) => a.rank - b.rank)) {
    if (column.width > room) break;
    kept.add(column);
    room -= column.width;
  }
  const columns = all.filter((column) => kept.has(column)).map((column) => ({
    ...column,
    spans: (node: TuiNode) => fitLine(column.spans(node), column.width),
  }));
  if (kept.size === all.length && room >= 10) {
    columns.push({
      width: room,
      rank: 6,
      spans: (node) => [{ text: ` ${shortChip(node.chip)}`, style: { dim: true } }],
    });
  }
  return columns;
}

function tag(node: TuiNode): Span {
  return !node.alive
    ? { text: "unreachable", style: { fg: "red", bold: true } }
    : node.computing
    ? { text: "◆ computing", style: { fg: "yellow", bold: true } }
    : node.self
    ? { text: "this node", style: { fg: "cyan" } }
    : { text: "" };
}

function layersText(node: TuiNode): string {
  return node.layers ? `layers ${node.layers.start}–${node.layers.end}` : "no layers";
}

interface Placement {
  node: TuiNode;
  x: number;
  y: number;
}

interface Ring {
  placed: Placement[];
  boxWidth: number;
  /** The ellipse the boxes sit on (centre of the boxes). */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/**
 * Where the boxes go, or null when they do not fit. A box is as wide as its text needs
 * (within BOX_MIN..BOX_MAX); two nodes keep room between them for the link and its
 * round trip.
 */
function ringLayout(nodes: readonly TuiNode[], width: number, height: number): Ring | null {
  const n = nodes.length;
  if (n === 0 || height < BOX_HEIGHT) return null;
  const wanted = Math.min(BOX_MAX, Math.max(BOX_MIN, ...nodes.map(boxWidthFor)));
  const share = n === 2
    ? Math.floor((width - cellWidth(linkText(nodes[0], nodes[1])) - 4) / 2)
    : Math.floor(width / (n === 1 ? 1 : n <= 4 ? 2 : 3)) - 2;
  const boxWidth = Math.min(wanted, share);
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
  return { placed, boxWidth, cx, cy, rx, ry };
}

function drawRing(ring: Ring, width: number, height: number): Line[] {
  const canvas = new Canvas(width, height);
  const { placed, boxWidth } = ring;
  if (placed.length === 2) drawLink(canvas, placed, boxWidth);
  else if (placed.length > 2) {
    drawEllipse(canvas, ring.cx + boxWidth / 2, ring.cy + BOX_HEIGHT / 2, ring.rx, ring.ry);
  }
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

/** A box's three rows: chip, memory and TFLOPS, layers and round trip (or unreachable). */
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

function drawBox(canvas: Canvas, { node, x, y }: Placement, width: number): void {
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
  boxRows(node).forEach((row, i) => {
    canvas.put(x, y + 1 + i, "│", border);
    canvas.putSpans(x + 1, y + 1 + i, fitLine([{ text: " " }, ...row], inner));
    canvas.put(x + width - 1, y + 1 + i, "│", border);
  });
  canvas.put(x, y + BOX_HEIGHT - 1, `╰${"─".repeat(inner)}╯`, border);
}
