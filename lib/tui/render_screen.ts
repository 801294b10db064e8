import { Budget } from "./budget.ts";
import { addresses, renderHeader } from "./render_header.ts";
import { downloadsHeight, downloadsNote, renderDownloads } from "./render_downloads.ts";
import { logsHeight, logsNote, renderLogs } from "./render_logs.ts";
import { BOX_HEIGHT, engineRowsFit, renderNodes, ringFits } from "./render_nodes.ts";
import { titleLine, totalHeight, totalLines } from "./render_panes.ts";
import { renderRequests, requestsHeight } from "./render_requests.ts";
import { fitLine, type Line, type Span } from "./styled_text.ts";
import type { ScreenSize, TuiNode, TuiViewModel } from "./view_model.ts";

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
  const header = renderHeader(model, columns, rows);
  const body = rows - header.length;
  const lines = columns >= WIDE_COLUMNS && rows >= WIDE_ROWS
    ? [...header, ...wideBody(model, columns, body, rows)]
    : [...header, ...narrowBody(model, columns, body, rows)];
  return lines.slice(0, rows);
}

function hint(model: TuiViewModel): string {
  return `Chat at ${addresses(model.apiUrls)[0] ?? "the web page"}`;
}

/** The model whose split the nodes show: "llama-3.2-1b · 16 layers". */
function modelNote(model: TuiViewModel): string {
  if (model.model === null) return "";
  const name = model.model.id.split("/").filter((part) => part !== "").at(-1) ?? "";
  return model.model.numLayers === null ? name : `${name} · ${model.model.numLayers} layers`;
}

/** Warnings and errors a screen of `rows` rows keeps room for when it has it. */
function logsWanted(rows: number): number {
  return rows >= 40 ? 4 : rows >= 24 ? 2 : 1;
}

/** A section title over its lines, or nothing when it got no room for a line. */
function section(
  title: string,
  width: number,
  lines: number,
  note: string | ((height: number) => string),
  body: (height: number) => Line[],
): Line[] {
  if (lines < 2) return [];
  const text = typeof note === "string" ? note : note(lines - 1);
  return [titleLine(title, width, text), ...body(lines - 1)];
}

function total(nodes: readonly TuiNode[], width: number, lines: number): Line[] {
  return lines === 0 ? [] : totalLines(nodes, width, lines);
}

function runningNote(model: TuiViewModel): string {
  const running = model.requests.filter((r) => r.state === "running").length;
  return running > 0 ? `${running} running` : "";
}

/** The smallest useful view of the nodes: this node, and a line counting the others. */
function nodesAtLeast(nodes: readonly TuiNode[]): number {
  return 1 + Math.min(nodes.length, 2);
}

/**
 * One column, top to bottom: nodes, cluster total, requests, downloads, activity (when
 * room is left), warnings. Lines are granted in order of what a user needs first: this
 * node and a count of the others, the newest request, the newest warning, the first
 * download, the total; then each part whole; then a row in the nodes' boxes for their
 * engines; what is left goes to older requests, the activity and older warnings.
 */
function narrowBody(model: TuiViewModel, width: number, height: number, rows: number): Line[] {
  const { nodes, requests, downloads, logs, activity } = model;
  const budget = new Budget<"nodes" | "total" | "requests" | "downloads" | "activity" | "logs">(
    height,
  );
  const ring = ringFits(nodes, width, BOX_HEIGHT);
  budget.grant("nodes", nodesAtLeast(nodes), true);
  budget.grant("requests", 2, true);
  if (logs.length > 0) budget.grant("logs", 2, true);
  if (downloads.length > 0) budget.grant("downloads", 2, true);
  budget.grant("total", 1);
  budget.grant("nodes", 1 + (ring ? BOX_HEIGHT : nodes.length), true);
  budget.grant("nodes", 1 + nodes.length);
  budget.grant("requests", 1 + Math.min(3, requestsHeight(requests, width, 3)));
  if (downloads.length > 0) budget.grant("downloads", 1 + downloadsHeight(downloads, width));
  budget.grant("logs", 1 + logsHeight(logs, width, logsWanted(rows)));
  budget.grant("total", totalHeight(nodes, width));
  if (ring && engineRowsFit(nodes, width, BOX_HEIGHT + 1)) {
    budget.grant("nodes", 2 + BOX_HEIGHT, true);
  }
  const room = budget.get("requests") + budget.left - 1;
  budget.grant("requests", 1 + requestsHeight(requests, width, room));
  if (budget.left >= 3) budget.grant("activity", 1 + Math.max(1, activity.length));
  budget.grant("logs", 1 + logsHeight(logs, width, logs.length));
  budget.grant("requests", budget.get("requests") + budget.left);
  return [
    ...section(
      "Nodes",
      width,
      budget.get("nodes"),
      modelNote(model),
      (h) => renderNodes(nodes, width, h),
    ),
    ...total(nodes, width, budget.get("total")),
    ...section(
      "Requests",
      width,
      budget.get("requests"),
      runningNote(model),
      (h) => renderRequests(requests, width, h, hint(model)),
    ),
    ...section(
      "Downloads",
      width,
      budget.get("downloads"),
      downloadsNote(downloads),
      (h) => renderDownloads(downloads, width, h),
    ),
    ...section(
      "Activity",
      width,
      budget.get("activity"),
      (h) => logsNote(activity, width, h, 1),
      (h) => renderLogs(activity, width, h, "Nothing yet.", 1),
    ),
    ...section(
      "Warnings and errors",
      width,
      budget.get("logs"),
      (h) => logsNote(logs, width, h),
      (h) => renderLogs(logs, width, h),
    ),
  ].slice(0, height);
}

/**
 * Two columns over the warnings: on the left the nodes (a ring when it fits, with a row
 * for their engines when the rest has its lines), the cluster total, downloads and the
 * activity; on the right the requests.
 */
function wideBody(model: TuiViewModel, width: number, height: number, rows: number): Line[] {
  const { nodes, requests, downloads, logs, activity } = model;
  const logsLines = Math.min(
    Math.floor(height / 3),
    1 + logsHeight(logs, width, logsWanted(rows)),
  );
  const top = height - logsLines;
  const leftWidth = Math.floor(width * 0.55);
  const rightWidth = width - leftWidth - 1;
  const budget = new Budget<"nodes" | "total" | "downloads" | "activity">(top);
  const n = nodes.length;
  const ringHeight = n <= 2 ? BOX_HEIGHT + 2 : n <= 4 ? 17 : Math.max(17, top - 6);
  const ring = ringFits(nodes, leftWidth, ringHeight);
  budget.grant("nodes", nodesAtLeast(nodes), true);
  budget.grant("total", 1);
  if (downloads.length > 0) budget.grant("downloads", 2, true);
  budget.grant("nodes", 1 + (ring ? ringHeight : n), true);
  budget.grant("nodes", 1 + n);
  budget.grant("total", totalHeight(nodes, leftWidth));
  if (downloads.length > 0) budget.grant("downloads", 1 + downloadsHeight(downloads, leftWidth));
  if (ring && n <= 2 && engineRowsFit(nodes, leftWidth, ringHeight + 1)) {
    budget.grant("nodes", 2 + ringHeight, true);
  }
  if (budget.left >= 3) budget.grant("activity", budget.left);
  const left = [
    ...section(
      "Nodes",
      leftWidth,
      budget.get("nodes"),
      modelNote(model),
      (h) => renderNodes(nodes, leftWidth, h),
    ),
    ...total(nodes, leftWidth, budget.get("total")),
    ...section(
      "Downloads",
      leftWidth,
      budget.get("downloads"),
      downloadsNote(downloads),
      (h) => renderDownloads(downloads, leftWidth, h),
    ),
    ...section(
      "Activity",
      leftWidth,
      budget.get("activity"),
      (h) => logsNote(activity, leftWidth, h, 1),
      (h) => renderLogs(activity, leftWidth, h, "Nothing yet.", 1),
    ),
  ];
  while (left.length < top) left.push(fitLine([], leftWidth));
  const right = [
    titleLine("Requests", rightWidth, runningNote(model)),
    ...renderRequests(requests, rightWidth, top - 1, hint(model)),
  ];
  const separator: Span = { text: "│", style: { fg: "blue", dim: true } };
  const columns = left.slice(0, top).map((line, i) => [...line, separator, ...right[i]]);
  return [
    ...columns,
    ...section(
      "Warnings and errors",
      width,
      logsLines,
      (h) => logsNote(logs, width, h),
      (h) => renderLogs(logs, width, h),
    ),
  ].slice(0, height);
}
