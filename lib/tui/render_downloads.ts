import { formatEta } from "../cli/download_progress_view.ts";
import type { DownloadEvent, DownloadStatus } from "../model/download_progress.ts";
import { formatSize, headLines } from "./format.ts";
import { shortModel } from "./render_requests.ts";
import { fitLine, type Line, type Span, spansWidth } from "./styled_text.ts";

/** Narrowest and widest progress bar. */
const BAR_MIN = 6;
const BAR_MAX = 30;
/** Lines a failed download's reason may take. */
const REASON_LINES = 2;
/** Cells a failed download's further lines are indented by. */
const INDENT = 3;
/** Failed first (they need the user), then those running, then the finished ones. */
const ORDER: Record<DownloadStatus, number> = { failed: 0, downloading: 1, done: 2 };

/**
 * The downloads of every node in `height` lines, failed ones first with their reason
 * (over two lines when it is long), then a bar, percent, sizes, speed and ETA for each
 * running one, then the finished ones; the last one shown may lose its second line.
 * {@linkcode downloadsNote} counts them all for the title. Always exactly `height` lines.
 */
export function renderDownloads(
  downloads: readonly DownloadEvent[],
  width: number,
  height: number,
): Line[] {
  const lines: Line[] = [];
  for (const event of [...downloads].sort((a, b) => ORDER[a.status] - ORDER[b.status])) {
    const room = height - lines.length;
    if (room <= 0) break;
    lines.push(...downloadLines(event, width, Math.min(REASON_LINES, room)));
  }
  while (lines.length < height) lines.push(fitLine([], width));
  return lines;
}

/** How many downloads failed, run and are done: "1 failed · 2 running". */
export function downloadsNote(downloads: readonly DownloadEvent[]): string {
  return (["failed", "downloading", "done"] as const).map((status) => {
    const count = downloads.filter((event) => event.status === status).length;
    return count === 0 ? "" : `${count} ${status === "downloading" ? "running" : status}`;
  }).filter((part) => part !== "").join(" · ");
}

/** Lines the downloads take when each shows whole. */
export function downloadsHeight(downloads: readonly DownloadEvent[], width: number): number {
  return downloads.reduce(
    (sum, event) => sum + downloadLines(event, width, REASON_LINES).length,
    0,
  );
}

function downloadLines(event: DownloadEvent, width: number, maxLines: number): Line[] {
  const head: Span[] = [
    { text: ` ${event.nodeId} `, style: { bold: true } },
    { text: `${shortModel(event.model)} ` },
  ];
  switch (event.status) {
    case "failed": {
      // Never a bar: the bytes a failed download got are no progress to show.
      const at = event.totalBytes > 0 && event.bytes > 0 ? ` at ${percent(event)}%` : "";
      const text = `✗ failed${at}: ${event.error ?? "no reason given"}`;
      const style = { fg: "red" as const };
      const reason = headLines(
        text,
        width - INDENT,
        Math.max(1, maxLines),
        width - spansWidth(head),
      );
      return reason.map((part, i) =>
        fitLine(
          i === 0 ? [...head, { text: part, style }] : [
            { text: " ".repeat(INDENT) },
            { text: part, style },
          ],
          width,
        )
      );
    }
    case "downloading":
      if (event.totalBytes <= 0) {
        return [fitLine([...head, { text: "starting…", style: { dim: true } }], width)];
      }
      return [withBar(head, event, [{
        text: `${formatSize(event.speed)}/s · ETA ${formatEta(event.eta)}`,
      }], width)];
    case "done":
      if (event.totalBytes <= 0) {
        return [fitLine([...head, { text: "✓ done", style: { fg: "green" } }], width)];
      }
      return [withBar(head, event, [{ text: "✓ done", style: { fg: "green" } }], width)];
  }
}

function percent(event: DownloadEvent): number {
  return Math.floor(Math.min(1, event.bytes / event.totalBytes) * 100);
}

/**
 * A download whose total is known: its bar (as wide as the line leaves, none below
 * {@linkcode BAR_MIN} cells), percent, sizes and `tail`.
 */
function withBar(head: Span[], event: DownloadEvent, tail: Span[], width: number): Line {
  const fraction = Math.min(1, event.bytes / event.totalBytes);
  const figures: Span[] = [
    { text: ` ${String(percent(event)).padStart(3)}% ` },
    {
      text: `${formatSize(event.bytes)}/${formatSize(event.totalBytes)} `,
      style: { dim: true },
    },
  ];
  const barWidth = Math.min(BAR_MAX, width - spansWidth([...head, ...figures, ...tail]) - 1);
  if (barWidth < BAR_MIN) {
    return fitLine([...head, { text: `${percent(event)}% ` }, figures[1], ...tail], width);
  }
  const filled = Math.round(fraction * barWidth);
  return fitLine([
    ...head,
    { text: "█".repeat(filled), style: { fg: "green" } },
    { text: "░".repeat(barWidth - filled), style: { dim: true } },
    ...figures,
    ...tail,
  ], width);
}
