/**
 * One line saying how a node runs its shard: the provider, the weights, and how many of
 * the graph's nodes really run there (a CoreML or WebGPU shard whose ops fall back to the
 * CPU is flagged, not hidden).
 * @module
 */
import type { TopologyEngine } from "./api_client.ts";

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

function label(provider: string): string {
  return PROVIDER_LABELS[provider] ?? provider;
}

/** The line for a node's engine, and whether it is worth a warning. */
export function engineSummary(engine: TopologyEngine): { text: string; warn: boolean } {
  const head = `${label(engine.active_provider)} · ${engine.dtype}`;
  if (engine.active_provider !== engine.requested_provider) {
    return {
      text: `${head} · ${label(engine.requested_provider)} unavailable: ${
        engine.fallback_reason ?? "no reason given"
      }`,
      warn: true,
    };
  }
  const total = engine.placement.reduce((sum, p) => sum + p.nodes, 0);
  if (engine.active_provider === "cpu" || total === 0) return { text: head, warn: false };
  const wanted = ORT_NAMES[engine.active_provider];
  const on = engine.placement.find((p) => p.provider === wanted)?.nodes ?? 0;
  if (on === total) return { text: `${head} · all ${total} graph nodes there`, warn: false };
  const others = engine.placement.filter((p) => p.provider !== wanted)
    .map((p) => `${p.nodes} on ${label(p.provider)}`).join(", ");
  return { text: `${head} · ${on} of ${total} graph nodes there, ${others}`, warn: true };
}
