import { headLines, oneLine, tailLines } from "./format.ts";
import { fitLine, type Line, type Span } from "./styled_text.ts";
import type { TuiRequest } from "./view_model.ts";

/**
 * The newest requests in `height` lines: a line of figures, the prompt, and the end of
 * the output (more lines for the newest when there is room). The newest shows in as many
 * of its lines as fit; an older one only whole. Always exactly `height` lines.
 */
export function renderRequests(
  requests: readonly TuiRequest[],
  width: number,
  height: number,
  hint: string,
): Line[] {
  const lines = requestLines(requests, width, height, hint);
  while (lines.length < height) lines.push(fitLine([], width));
  return lines;
}

/** Lines the requests fill of `room` (the rest {@linkcode renderRequests} leaves blank). */
export function requestsHeight(
  requests: readonly TuiRequest[],
  width: number,
  room: number,
): number {
  return requestLines(requests, width, room, "").length;
}

function requestLines(
  requests: readonly TuiRequest[],
  width: number,
  height: number,
  hint: string,
): Line[] {
  const lines: Line[] = [];
  if (height <= 0) return lines;
  if (requests.length === 0) {
    lines.push(fitLine([{ text: ` No requests yet. ${hint}`, style: { dim: true } }], width));
  }
  for (const [i, request] of requests.entries()) {
    const left = height - lines.length;
    if (left <= 0 || (i > 0 && left < 3)) break;
    // The newest request gets the room the others leave; each other takes 3 lines.
    const others = Math.min(requests.length - 1 - i, Math.floor((left - 3) / 3));
    const most = Math.max(6, Math.floor(height / 2));
    const outputLines = i === 0 ? Math.max(1, Math.min(most, left - 2 - others * 3)) : 1;
    // A failure shows the start of its reason (the cause), a reply its newest words.
    const body = request.state === "failed"
      ? headLines(request.error ?? "failed", width - 3, Math.min(3, outputLines))
      : tailLines(request.output, width - 3, outputLines);
    if (body.length === 0) body.push(request.state === "running" ? "…" : "");
    const own = [
      fitLine(requestHeader(request), width),
      fitLine([
        { text: ` ${request.origin}`, style: { dim: true } },
        { text: " › ", style: { fg: "cyan", bold: true } },
        { text: oneLine(request.prompt), style: { fg: "cyan" } },
      ], width),
      ...body.slice(0, outputLines).map((text, k) =>
        fitLine([{ text: k === 0 ? " ‹ " : "   ", style: { dim: true } }, {
          text,
          style: request.state === "failed" ? { fg: "red" } : undefined,
        }], width)
      ),
    ];
    lines.push(...own.slice(0, left));
  }
  return lines;
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
export function shortModel(model: string): string {
  return model.split("/").filter((part) => part !== "").at(-1) ?? model;
}
