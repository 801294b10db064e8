/**
 * How a node runs its shard, in words: the provider, the weights, how many of the graph's
 * nodes really run there (a CoreML or WebGPU shard whose ops fall back to the CPU is
 * flagged, not hidden), and, when `--execution-provider auto` chose, what it measured.
 * @module
 */
import type { AutoCandidate, TopologyAuto, TopologyEngine } from "./api_client.ts";
import { formatClock, formatTokensPerSecond } from "./format.ts";

const PROVIDER_LABELS: Readonly<Record<string, string>> = {
  cpu: "CPU",
  coreml: "CoreML",
  webgpu: "WebGPU",
  CPUExecutionProvider: "CPU",
  CoreMLExecutionProvider: "CoreML",
  WebGpuExecutionProvider: "WebGPU",
};

const ORT_NAMES: Readonly<Record<string, string>> = {
  cpu: "CPUExecutionProvider",
  coreml: "CoreMLExecutionProvider",
  webgpu: "WebGpuExecutionProvider",
};

/** What `--execution-provider` says when the node measures and chooses. */
const AUTO = "auto";

function label(provider: string): string {
  return PROVIDER_LABELS[provider] ?? provider;
}

/**
 * The line for a node's engine, and whether it is worth a warning: a provider that fell
 * back (a named one, or the one auto chose at an earlier start that no longer loads), or
 * graph nodes that run on another provider.
 */
export function engineSummary(engine: TopologyEngine): { text: string; warn: boolean } {
  const auto = engine.requested_provider === AUTO;
  const wanted = auto ? engine.auto?.chosen ?? null : engine.requested_provider;
  const head = `${label(engine.active_provider)} · ${engine.dtype}`;
  if (engine.fallback_reason !== null || (wanted !== null && wanted !== engine.active_provider)) {
    const what = !auto
      ? label(engine.requested_provider)
      : wanted === null
      ? "auto's choice"
      : `${label(wanted)} (chosen by auto)`;
    return {
      text: `${head} · ${what} unavailable: ${engine.fallback_reason ?? "no reason given"}`,
      warn: true,
    };
  }
  const chosen = auto ? `${head} · chosen by auto` : head;
  const total = engine.placement.reduce((sum, p) => sum + p.nodes, 0);
  if (engine.active_provider === "cpu" || total === 0) return { text: chosen, warn: false };
  const ortName = ORT_NAMES[engine.active_provider];
  const on = engine.placement.find((p) => p.provider === ortName)?.nodes ?? 0;
  if (on === total) return { text: `${chosen} · all ${total} graph nodes there`, warn: false };
  const others = engine.placement.filter((p) => p.provider !== ortName)
    .map((p) => `${p.nodes} on ${label(p.provider)}`).join(", ");
  return { text: `${chosen} · ${on} of ${total} graph nodes there, ${others}`, warn: true };
}

/** One candidate auto tried, as a row of the cluster panel. */
export interface CandidateRow {
  /** "WebGPU q4". */
  name: string;
  /** The one auto chose. */
  chosen: boolean;
  /** Decode and prompt speeds over the shard ("41.2 tok/s"); null when out. */
  decode: string | null;
  prompt: string | null;
  /** Why it is out ("out: ..."), or null. */
  out: string | null;
}

/** The candidates auto tried, in the order tried. */
export function candidateRows(auto: TopologyAuto): CandidateRow[] {
  return auto.candidates.map((candidate) => ({
    name: `${label(candidate.provider)} ${candidate.dtype}`,
    chosen: isChosen(candidate, auto),
    decode: candidate.out === null
      ? formatTokensPerSecond(candidate.decode_tokens_per_second)
      : null,
    prompt: candidate.out === null
      ? formatTokensPerSecond(candidate.prefill_tokens_per_second)
      : null,
    out: candidate.out === null ? null : `out: ${candidate.out}`,
  }));
}

function isChosen(candidate: AutoCandidate, auto: TopologyAuto): boolean {
  return candidate.out === null && candidate.provider === auto.chosen &&
    candidate.dtype === auto.dtype;
}

/**
 * The notes under the candidates: when and on which layers they were measured, and
 * whether the choice was kept from an earlier start. `now` places the time (a time of
 * day today, a date before).
 */
export function autoFootnotes(auto: TopologyAuto, now: number): string[] {
  const { start_layer: start, end_layer: end } = auto.probe_layers;
  const layers = start === end ? `layer ${start}` : `layers ${start}–${end}`;
  const notes = [
    `measured ${formatClock(auto.measured_at, now)} on ${layers}` +
    (auto.projected ? " (projected to this node's layers)" : ""),
  ];
  if (auto.cached) notes.push("kept from an earlier start; --reprobe measures again");
  return notes;
}
