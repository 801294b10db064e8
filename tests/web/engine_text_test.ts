import assert from "node:assert/strict";
import type { TopologyEngine } from "../../web/src/lib/api_client.ts";
import { engineSummary } from "../../web/src/lib/engine_text.ts";

function engine(over: Partial<TopologyEngine>): TopologyEngine {
  return {
    model: "llama-3.2-1b",
    start_layer: 0,
    end_layer: 7,
    dtype: "q4",
    requested_provider: "webgpu",
    active_provider: "webgpu",
    fallback_reason: null,
    placement: [{ provider: "WebGpuExecutionProvider", nodes: 122 }],
    ...over,
  };
}

Deno.test("engineSummary says a GPU shard runs all its nodes there", () => {
  assert.deepEqual(engineSummary(engine({})), {
    text: "WebGPU · q4 · all 122 graph nodes there",
    warn: false,
  });
  assert.deepEqual(engineSummary(engine({ requested_provider: "cpu", active_provider: "cpu" })), {
    text: "CPU · q4",
    warn: false,
  });
});

Deno.test("engineSummary flags nodes that fell to the CPU and a provider that fell back", () => {
  assert.deepEqual(
    engineSummary(engine({
      requested_provider: "coreml",
      active_provider: "coreml",
      dtype: "float16",
      placement: [
        { provider: "CPUExecutionProvider", nodes: 118 },
        { provider: "CoreMLExecutionProvider", nodes: 4 },
      ],
    })),
    { text: "CoreML · float16 · 4 of 122 graph nodes there, 118 on CPU", warn: true },
  );
  assert.deepEqual(
    engineSummary(engine({ active_provider: "cpu", fallback_reason: "no adapter" })),
    { text: "CPU · q4 · WebGPU unavailable: no adapter", warn: true },
  );
});
