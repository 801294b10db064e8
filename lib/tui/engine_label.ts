import { formatRate } from "./format.ts";
import type { Span } from "./styled_text.ts";
import type { TuiEngine } from "./view_model.ts";

/**
 * A node's engine in a few words, longest first, each shorter one for a narrower place:
 * "webgpu q4 · auto 41 tok/s (cpu 28)", "webgpu q4 · auto 41 tok/s", "webgpu q4 · auto",
 * "webgpu q4". A shard that fell back reads "cpu q4 · webgpu unavailable", in yellow. Why
 * a candidate was out is for the log: here it is "(webgpu out)".
 */
export function engineLabels(engine: TuiEngine): Span[][] {
  const head: Span = { text: `${engine.provider} ${engine.dtype}` };
  if (engine.fellBackFrom !== null) {
    return [[head, { text: ` · ${engine.fellBackFrom} unavailable`, style: { fg: "yellow" } }], [
      { ...head, style: { fg: "yellow" } },
    ]];
  }
  const { auto } = engine;
  if (auto === null) return [[head]];
  const tag = (text: string): Span => ({ text, style: { fg: "green" } });
  const short = [[head, tag(" · auto")], [head]];
  if (auto.tokensPerSecond === null) return short;
  const speed = tag(` · auto ${formatRate(auto.tokensPerSecond)} tok/s`);
  const other = auto.runnerUp;
  if (other === null) return [[head, speed], ...short];
  const name = other.dtype === engine.dtype ? other.provider : `${other.provider} ${other.dtype}`;
  const figure = other.tokensPerSecond === null ? "out" : formatRate(other.tokensPerSecond);
  const beside: Span = { text: ` (${name} ${figure})`, style: { dim: true } };
  return [[head, speed, beside], [head, speed], ...short];
}
