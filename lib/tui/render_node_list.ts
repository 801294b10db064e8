import { engineLabels } from "./engine_label.ts";
import { formatMemory, formatRtt, formatTflops, shortChip } from "./format.ts";
import { cellWidth, fitLine, type Line, type Span, spansWidth, spread } from "./styled_text.ts";
import type { TuiNode } from "./view_model.ts";

/**
 * The nodes one per line, this node first; the nodes that find no line are counted on the
 * last. At most `height` lines.
 */
export function renderNodeList(nodes: readonly TuiNode[], width: number, height: number): Line[] {
  if (height <= 0) return [];
  const ordered = [...nodes.filter((node) => node.self), ...nodes.filter((node) => !node.self)];
  const idWidth = Math.min(24, Math.max(4, ...nodes.map((node) => cellWidth(node.id))));
  const columns = listColumns(nodes, width, idWidth);
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
 * id, tag (this node, computing, unreachable), layers, memory, TFLOPS, round trip, engine,
 * chip. When not all fit, the round trip goes before TFLOPS, the engine before the chip.
 */
function listColumns(nodes: readonly TuiNode[], width: number, idWidth: number): Column[] {
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
  if (kept.size < all.length) return columns;
  const chip = Math.min(
    room,
    1 + Math.max(...nodes.map((node) => cellWidth(shortChip(node.chip)))),
  );
  const engine = engineColumn(nodes, room - chip);
  if (engine !== null) {
    columns.push(engine);
    room -= engine.width;
  }
  if (room >= 10) {
    columns.push({
      width: room,
      rank: 7,
      spans: (node) => [{ text: ` ${shortChip(node.chip)}`, style: { dim: true } }],
    });
  }
  return columns;
}

/**
 * The engine column in at most `room` cells: as wide as the longest labels want, each
 * node's the longest that fits; null when no node has an engine or the shortest labels do
 * not fit.
 */
function engineColumn(nodes: readonly TuiNode[], room: number): Column | null {
  const labels = nodes.flatMap((node) => node.engine === null ? [] : [engineLabels(node.engine)]);
  if (labels.length === 0) return null;
  const gap = 2;
  const longest = Math.max(...labels.map((each) => spansWidth(each[0])));
  const shortest = Math.max(...labels.map((each) => spansWidth(each[each.length - 1])));
  if (shortest + gap > room) return null;
  const width = Math.min(room, longest + gap);
  return {
    width,
    rank: 6,
    spans: (node) => {
      if (node.engine === null) return fitLine([], width);
      const fits = engineLabels(node.engine).find((label) => spansWidth(label) + gap <= width);
      return fitLine(fits ?? [], width);
    },
  };
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

/** "layers 0–7", or "no layers". */
export function layersText(node: TuiNode): string {
  return node.layers ? `layers ${node.layers.start}–${node.layers.end}` : "no layers";
}
