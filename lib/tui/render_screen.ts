import { renderNodes } from "./render_nodes.ts";
import {
  renderDownloads,
  renderLogs,
  renderRequests,
  titleLine,
  totalLine,
} from "./render_panes.ts";
import { cellWidth, fitLine, type Line, type Span, spread } from "./styled_text.ts";
import type { ScreenSize, TuiViewModel } from "./view_model.ts";

/** Smallest terminal the view lays out; smaller ones get a one-line notice. */
export const MIN_COLUMNS = 40;
export const MIN_ROWS = 12;
/** From this size on, the ring sits beside the requests. */
const WIDE_COLUMNS = 110;
const WIDE_ROWS = 28;

/**
 * Renders the view: exactly `size.rows` lines of exactly `size.columns` cells each. Pure:
 * the same model and size give the same lines.
 */
export function renderScreen(model: TuiViewModel, size: ScreenSize): Line[] {
  const { columns, rows } = size;
  if (columns < 1 || rows < 1) return [];
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    const lines = [fitLine([{ text: `exo-node ${model.nodeId}`, style: { bold: true } }], columns)];
    lines.push(
      fitLine([{ text: `Terminal too small (${MIN_COLUMNS}×${MIN_ROWS} at least)` }], columns),
    );
    while (lines.length < rows) lines.push(fitLine([], columns));
    return lines.slice(0, rows);
  }
  const header = renderHeader(model, columns);
  const body = rows - header.length;
  const lines = columns >= WIDE_COLUMNS && rows >= WIDE_ROWS
    ? [...header, ...wideBody(model, columns, body)]
    : [...header, ...narrowBody(model, columns, body)];
  return lines.slice(0, rows);
}

function renderHeader(model: TuiViewModel, width: number): Line[] {
  const connected = model.nodes.filter((node) => node.alive).length;
  const bar: Style = { inverse: true };
  const left: Span[] = [
    { text: " exo-node ", style: { ...bar, bold: true } },
    { text: `${model.version}  ·  node `, style: bar },
    { text: model.nodeId, style: { ...bar, bold: true } },
    {
      text: `  ·  ${connected} of ${model.nodes.length} node${
        model.nodes.length === 1 ? "" : "s"
      } connected `,
      style: bar,
    },
  ];
  const top = spread(left, [{ text: " q quit ", style: bar }], width);
  const filled = top.map((span) => span.style === undefined ? { ...span, style: bar } : span);
  const urls: Span[] = [
    { text: " Web & API ", style: { dim: true } },
    { text: model.apiUrls.join("  "), style: { fg: "cyan", bold: true } },
    { text: "  ·  node port ", style: { dim: true } },
    { text: String(model.nodePort) },
  ];
  const log: Span[] = [{ text: "  ·  log ", style: { dim: true } }, { text: model.logFile }];
  const oneLineWidth = [...urls, ...log].reduce((sum, s) => sum + cellWidth(s.text), 0);
  if (oneLineWidth <= width) return [filled, fitLine([...urls, ...log], width)];
  return [
    filled,
    fitLine(urls, width),
    fitLine([{ text: " Log ", style: { dim: true } }, { text: model.logFile }], width),
  ];
}

type Style = NonNullable<Span["style"]>;

function hint(model: TuiViewModel): string {
  return `Chat at ${model.apiUrls[0] ?? "the web page"}`;
}

function modelNote(model: TuiViewModel): string {
  return model.model === null
    ? ""
    : `${model.model.id.split("/").at(-1)} · ${model.model.numLayers} layers`;
}

function downloadsHeight(model: TuiViewModel, room: number): number {
  return model.downloads.length === 0 ? 0 : Math.min(model.downloads.length, Math.max(1, room));
}

function logsHeight(model: TuiViewModel, rows: number): number {
  return Math.max(1, Math.min(rows >= 40 ? 8 : rows >= 24 ? 4 : 2, model.logs.length));
}

function narrowBody(model: TuiViewModel, width: number, height: number): Line[] {
  const logs = logsHeight(model, height);
  const downloads = downloadsHeight(model, 3);
  const fixed = 1 + 1 + 1 + 1 + (downloads > 0 ? 1 + downloads : 0) + logs; // titles, total
  const budget = height - fixed;
  const n = model.nodes.length;
  const nodes = Math.max(1, Math.min(n <= 2 ? 5 : n, budget - 3));
  const requests = Math.max(0, budget - nodes);
  const running = model.requests.filter((r) => r.state === "running").length;
  return [
    titleLine("Nodes", width, modelNote(model)),
    ...renderNodes(model.nodes, width, nodes),
    totalLine(model.nodes, width),
    titleLine("Requests", width, running > 0 ? `${running} running` : ""),
    ...renderRequests(model.requests, width, requests, hint(model)),
    ...(downloads > 0
      ? [titleLine("Downloads", width), ...renderDownloads(model.downloads, width, downloads)]
      : []),
    titleLine("Warnings and errors", width),
    ...renderLogs(model.logs, width, logs),
  ].slice(0, height);
}

function wideBody(model: TuiViewModel, width: number, height: number): Line[] {
  const logs = logsHeight(model, height);
  const top = height - 1 - logs;
  const leftWidth = Math.floor(width * 0.55);
  const rightWidth = width - leftWidth - 1;
  // The ring takes the room its nodes need; downloads go below it.
  const n = model.nodes.length;
  const ringWanted = n <= 2 ? 9 : n <= 4 ? 17 : top;
  const downloads = downloadsHeight(model, top - 4 - Math.min(ringWanted, 9));
  const ring = Math.max(1, Math.min(ringWanted, top - 2 - (downloads > 0 ? downloads + 1 : 0)));
  const left = [
    titleLine("Nodes", leftWidth, modelNote(model)),
    ...renderNodes(model.nodes, leftWidth, ring),
    totalLine(model.nodes, leftWidth),
    ...(downloads > 0
      ? [
        titleLine("Downloads", leftWidth),
        ...renderDownloads(model.downloads, leftWidth, downloads),
      ]
      : []),
  ];
  // The room the nodes leave shows what the node has been doing.
  const room = top - left.length;
  if (room >= 3) {
    left.push(
      titleLine("Activity", leftWidth),
      ...renderLogs(model.activity, leftWidth, room - 1, "Nothing yet."),
    );
  }
  while (left.length < top) left.push(fitLine([], leftWidth));
  const running = model.requests.filter((r) => r.state === "running").length;
  const right = [
    titleLine("Requests", rightWidth, running > 0 ? `${running} running` : ""),
    ...renderRequests(model.requests, rightWidth, top - 1, hint(model)),
  ];
  const separator: Span = { text: "│", style: { fg: "blue", dim: true } };
  const columns = left.slice(0, top).map((line, i) => [...line, separator, ...right[i]]);
  return [
    ...columns,
    titleLine("Warnings and errors", width),
    ...renderLogs(model.logs, width, logs),
  ].slice(0, height);
}
