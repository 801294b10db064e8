import { formatEta } from "../cli/download_progress_view.ts";
import type { DownloadEvent } from "../model/download_progress.ts";
import { formatMemory, formatSize, formatTflops, oneLine, tailLines } from "./format.ts";
import { fitLine, type Line, type Span, spansWidth, spread } from "./styled_text.ts";
import type { TuiLogLine, TuiNode, TuiRequest } from "./view_model.ts";

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

/** The cluster's total memory and TFLOPS, with exo's "GPU poor ↔ GPU rich" bar. */
export function totalLine(nodes: readonly TuiNode[], width: number): Line {
  const alive = nodes.filter((node) => node.alive);
  const memory = alive.reduce((sum, node) => sum + node.memoryMb, 0);
  const tflops = alive.reduce((sum, node) => sum + node.tflops, 0);
  const left: Span[] = [
    { text: "Cluster ", style: { bold: true } },
    { text: `${alive.length} node${alive.length === 1 ? "" : "s"} · ${formatMemory(memory)} · ` },
    { text: `${formatTflops(tflops)} TFLOPS`, style: { bold: true } },
  ];
  const barWidth = Math.min(30, width - spansWidth(left) - 21);
  if (barWidth < 8) return fitLine(left, width);
  const fraction = tflops <= POOR_TFLOPS ? 0 : Math.min(
    1,
    Math.log10(tflops / POOR_TFLOPS) / Math.log10(RICH_TFLOPS / POOR_TFLOPS),
  );
  const filled = Math.round(fraction * barWidth);
  const right: Span[] = [
    { text: "GPU poor ", style: { dim: true } },
    {
      text: "█".repeat(filled),
      style: { fg: fraction < 0.4 ? "red" : fraction < 0.7 ? "yellow" : "green" },
    },
    { text: "░".repeat(barWidth - filled), style: { dim: true } },
    { text: " GPU rich", style: { dim: true } },
  ];
  return spread(left, right, width);
}

/**
 * The newest requests in `height` lines: a line of figures, the prompt, and the end of
 * the output (more lines for the newest when there is room).
 */
export function renderRequests(
  requests: readonly TuiRequest[],
  width: number,
  height: number,
  hint: string,
): Line[] {
  const lines: Line[] = [];
  if (requests.length === 0) {
    lines.push(fitLine([{ text: ` No requests yet. ${hint}`, style: { dim: true } }], width));
  }
  requests.forEach((request, i) => {
    const left = height - lines.length;
    if (left < 3) return;
    // The newest request gets the room the others leave; each other takes 3 lines.
    const others = Math.min(requests.length - 1 - i, Math.floor((left - 3) / 3));
    const most = Math.max(6, Math.floor(height / 2));
    const outputLines = i === 0 ? Math.max(1, Math.min(most, left - 2 - others * 3)) : 1;
    lines.push(fitLine(requestHeader(request), width));
    lines.push(fitLine([
      { text: ` ${request.origin}`, style: { dim: true } },
      { text: " › ", style: { fg: "cyan", bold: true } },
      { text: oneLine(request.prompt), style: { fg: "cyan" } },
    ], width));
    const body = request.state === "failed"
      ? [oneLine(request.error ?? "failed")]
      : tailLines(request.output, width - 3, outputLines);
    if (body.length === 0) body.push(request.state === "running" ? "…" : "");
    body.slice(0, outputLines).forEach((text, k) =>
      lines.push(fitLine([{ text: k === 0 ? " ‹ " : "   ", style: { dim: true } }, {
        text,
        style: request.state === "failed" ? { fg: "red" } : undefined,
      }], width))
    );
  });
  while (lines.length < height) lines.push(fitLine([], width));
  return lines.slice(0, height);
}

function requestHeader(request: TuiRequest): Span[] {
  const state: Span = request.state === "running"
    ? { text: "▶ running ", style: { fg: "yellow", bold: true } }
    : request.state === "finished"
    ? { text: "✓ done    ", style: { fg: "green" } }
    : { text: "✗ failed  ", style: { fg: "red", bold: true } };
  const figures = [
    `${request.tokens} tok`,
    request.tokensPerSecond === null ? "– tok/s" : `${request.tokensPerSecond.toFixed(1)} tok/s`,
    request.ttftMs === null ? "TTFT –" : `TTFT ${request.ttftMs.toFixed(0)} ms`,
  ].join(" · ");
  return [
    { text: " " },
    state,
    { text: figures, style: { bold: true } },
    { text: `  ${shortModel(request.model)}`, style: { dim: true } },
  ];
}

/** A model's last path part: a local directory or hub repo read as its name. */
function shortModel(model: string): string {
  return model.split("/").filter((part) => part !== "").at(-1) ?? model;
}

/** One line per node and model: a bar, percent, bytes, speed and ETA. */
export function renderDownloads(
  downloads: readonly DownloadEvent[],
  width: number,
  height: number,
): Line[] {
  const order = [...downloads].sort((a, b) => Number(a.done) - Number(b.done));
  const lines = order.slice(0, height).map((event) => fitLine(downloadLine(event, width), width));
  while (lines.length < height) lines.push(fitLine([], width));
  return lines;
}

function downloadLine(event: DownloadEvent, width: number): Span[] {
  const fraction = event.totalBytes > 0 ? Math.min(1, event.bytes / event.totalBytes) : 1;
  const barWidth = Math.max(8, Math.min(30, width - 64));
  const filled = Math.round(fraction * barWidth);
  const state: Span = event.error !== undefined
    ? { text: `failed: ${event.error}`, style: { fg: "red" } }
    : event.done
    ? { text: "✓ done", style: { fg: "green" } }
    : { text: `${formatSize(event.speed)}/s · ETA ${formatEta(event.eta)}` };
  return [
    { text: ` ${event.nodeId} `, style: { bold: true } },
    { text: `${shortModel(event.model)} ` },
    { text: "█".repeat(filled), style: { fg: event.error ? "red" : "green" } },
    { text: "░".repeat(barWidth - filled), style: { dim: true } },
    { text: ` ${String(Math.floor(fraction * 100)).padStart(3)}% ` },
    { text: `${formatSize(event.bytes)}/${formatSize(event.totalBytes)} `, style: { dim: true } },
    state,
  ];
}

/** The newest log lines that fit, oldest first; `empty` shows when there are none. */
export function renderLogs(
  logs: readonly TuiLogLine[],
  width: number,
  height: number,
  empty = "No warnings or errors.",
): Line[] {
  const lines = logs.slice(-height).map((log) =>
    fitLine([
      { text: ` ${log.time} `, style: { dim: true } },
      {
        text: log.level.toUpperCase().padEnd(5),
        style: log.level === "error"
          ? { fg: "red", bold: true }
          : log.level === "warn"
          ? { fg: "yellow" }
          : { dim: true },
      },
      { text: ` ${oneLine(log.text)}` },
    ], width)
  );
  if (lines.length === 0) {
    lines.push(fitLine([{ text: ` ${empty}`, style: { dim: true } }], width));
  }
  while (lines.length < height) lines.push(fitLine([], width));
  return lines;
}
