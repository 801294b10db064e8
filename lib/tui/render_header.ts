import { fitLine, type Line, type Span, spansWidth, spread, type Style } from "./styled_text.ts";
import type { TuiViewModel } from "./view_model.ts";

/** From this many rows on, a log path that does not fit beside the addresses gets a line. */
const LOG_LINE_ROWS = 20;
const BAR: Style = { inverse: true };
const GAP = "  ";

/**
 * The header: a bar with the program, this node and how many nodes are connected, then
 * the addresses to open, whole so a terminal can make them links: the localhost one
 * always, each LAN one when it fits, then the node port and the log file when they fit
 * (the log on a line of its own on a screen of {@linkcode LOG_LINE_ROWS} rows or more).
 */
export function renderHeader(model: TuiViewModel, width: number, rows: number): Line[] {
  const lines = [topBar(model, width)];
  const [first, ...others] = addresses(model.apiUrls);
  const line: Span[] = [{ text: " Web & API ", style: { dim: true } }];
  if (first !== undefined) line.push({ text: first, style: URL_STYLE });
  const append = (spans: Span[]) => {
    if (spansWidth(line) + spansWidth(spans) > width) return false;
    line.push(...spans);
    return true;
  };
  for (const url of others) append([{ text: GAP }, { text: url, style: URL_STYLE }]);
  append([{ text: `${GAP}·  node port `, style: { dim: true } }, { text: String(model.nodePort) }]);
  const log = append([{ text: `${GAP}·  log `, style: { dim: true } }, { text: model.logFile }]);
  lines.push(fitLine(line, width));
  if (!log && rows >= LOG_LINE_ROWS) {
    lines.push(fitLine([{ text: " Log ", style: { dim: true } }, { text: model.logFile }], width));
  }
  return lines;
}

const URL_STYLE: Style = { fg: "cyan", bold: true };

/** The addresses, loopback ones first: the one a person on this machine opens. */
export function addresses(urls: readonly string[]): string[] {
  const local = (url: string) => /^https?:\/\/(localhost|127\.[\d.]+|\[::1\])[:/]/.test(url);
  return [...urls.filter(local), ...urls.filter((url) => !local(url))];
}

/** The first bar that fits of a longer and shorter wording, with "q quit" on the right. */
function topBar(model: TuiViewModel, width: number): Line {
  const connected = model.nodes.filter((node) => node.alive).length;
  const total = model.nodes.length;
  const id: Span = { text: model.nodeId, style: { ...BAR, bold: true } };
  const name: Span = { text: " exo-node ", style: { ...BAR, bold: true } };
  const quit: Span[] = [{ text: " q quit ", style: BAR }];
  const wordings: Span[][] = [
    [
      name,
      { text: `${model.version}  ·  node `, style: BAR },
      id,
      {
        text: `  ·  ${connected} of ${total} node${total === 1 ? "" : "s"} connected `,
        style: BAR,
      },
    ],
    [name, { text: "· ", style: BAR }, id, { text: ` · ${connected}/${total} nodes `, style: BAR }],
  ];
  const left = wordings.find((spans) => spansWidth(spans) + spansWidth(quit) <= width) ??
    wordings.at(-1)!;
  return spread(left, quit, width).map((span) =>
    span.style === undefined ? { ...span, style: BAR } : span
  );
}
