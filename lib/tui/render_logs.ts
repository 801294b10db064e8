import { headLines } from "./format.ts";
import { fitLine, type Line, type Span, spansWidth } from "./styled_text.ts";
import type { TuiLogLine } from "./view_model.ts";

/** Lines a warning may take: the second keeps its cause readable. */
const MESSAGE_LINES = 2;
/** Below this width the time is left out, for the message's sake. */
const TIME_COLUMNS = 60;

/**
 * The newest log messages that fit in `height` lines, oldest first, each wrapped over up
 * to `messageLines` lines (then cut with "…"), its further lines indented under its text;
 * `empty` shows when there are none. Always exactly `height` lines.
 */
export function renderLogs(
  logs: readonly TuiLogLine[],
  width: number,
  height: number,
  empty = "No warnings or errors.",
  messageLines = MESSAGE_LINES,
): Line[] {
  const blocks = newestBlocks(logs, width, height, messageLines);
  const lines = blocks.flat();
  if (lines.length === 0 && height > 0) {
    lines.push(fitLine([{ text: ` ${empty}`, style: { dim: true } }], width));
  }
  while (lines.length < height) lines.push(fitLine([], width));
  return lines;
}

/** "3 earlier" when older messages than those {@linkcode renderLogs} shows are kept. */
export function logsNote(
  logs: readonly TuiLogLine[],
  width: number,
  height: number,
  messageLines = MESSAGE_LINES,
): string {
  const hidden = logs.length - newestBlocks(logs, width, height, messageLines).length;
  return hidden > 0 ? `${hidden} earlier` : "";
}

/** The newest messages' lines that fit in `height` lines, oldest first. */
function newestBlocks(
  logs: readonly TuiLogLine[],
  width: number,
  height: number,
  messageLines: number,
): Line[][] {
  const blocks: Line[][] = [];
  let left = height;
  for (let i = logs.length - 1; i >= 0 && left > 0; i--) {
    const block = logLines(logs[i], width, Math.min(messageLines, left));
    blocks.unshift(block);
    left -= block.length;
  }
  return blocks;
}

/** Lines the newest `count` messages take at `width` (at least one, for the empty note). */
export function logsHeight(logs: readonly TuiLogLine[], width: number, count: number): number {
  const lines = logs.slice(-count).reduce(
    (sum, log) => sum + logLines(log, width, MESSAGE_LINES).length,
    0,
  );
  return Math.max(1, lines);
}

function logLines(log: TuiLogLine, width: number, maxLines: number): Line[] {
  const prefix: Span[] = [
    ...(width >= TIME_COLUMNS ? [{ text: ` ${log.time}`, style: { dim: true } }] : []),
    {
      text: ` ${log.level.toUpperCase().padEnd(5)} `,
      style: log.level === "error"
        ? { fg: "red", bold: true }
        : log.level === "warn"
        ? { fg: "yellow" }
        : { dim: true },
    },
  ];
  const indent = spansWidth(prefix);
  const parts = headLines(log.text, width - indent, maxLines);
  if (parts.length === 0) parts.push("");
  return parts.map((text, i) =>
    fitLine([...(i === 0 ? prefix : [{ text: " ".repeat(indent) }]), { text }], width)
  );
}
