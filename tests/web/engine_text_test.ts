import assert from "node:assert/strict";
import type { TopologyAuto, TopologyEngine } from "../../web/src/lib/api_client.ts";
import { autoFootnotes, candidateRows, engineSummary } from "../../web/src/lib/engine_text.ts";
import { formatClock } from "../../web/src/lib/format.ts";
import { autoCluster } from "./_fake_cluster.ts";

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

/** What auto measured on the fake cluster's studio (WebGPU beat the CPU) or mini. */
function measured(node: "studio" | "mini", over: Partial<TopologyAuto> = {}): TopologyAuto {
  const auto = autoCluster().nodes.find((n) => n.id === node)!.engine!.auto!;
  return { ...auto, measured_at: new Date(2026, 11, 7, 9, 41).getTime(), ...over };
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

Deno.test("engineSummary says auto chose the provider, never that auto is unavailable", () => {
  assert.deepEqual(
    engineSummary(engine({ requested_provider: "auto", auto: measured("studio") })),
    { text: "WebGPU · q4 · chosen by auto · all 122 graph nodes there", warn: false },
  );
  const cpu = engine({
    requested_provider: "auto",
    active_provider: "cpu",
    placement: [{ provider: "CPUExecutionProvider", nodes: 94 }],
  });
  assert.deepEqual(engineSummary({ ...cpu, auto: measured("mini") }), {
    text: "CPU · q4 · chosen by auto",
    warn: false,
  });
  assert.deepEqual(engineSummary(cpu), { text: "CPU · q4 · chosen by auto", warn: false });
  assert.deepEqual(
    engineSummary(engine({
      requested_provider: "auto",
      auto: measured("studio"),
      placement: [
        { provider: "WebGpuExecutionProvider", nodes: 120 },
        { provider: "CPUExecutionProvider", nodes: 2 },
      ],
    })),
    { text: "WebGPU · q4 · chosen by auto · 120 of 122 graph nodes there, 2 on CPU", warn: true },
    "graph nodes off the provider are still flagged",
  );
});

Deno.test("engineSummary warns when auto's kept choice no longer loads and the CPU runs", () => {
  assert.deepEqual(
    engineSummary(engine({
      requested_provider: "auto",
      active_provider: "cpu",
      fallback_reason: "no WebGPU adapter",
      auto: measured("studio", { cached: true }),
    })),
    { text: "CPU · q4 · WebGPU (chosen by auto) unavailable: no WebGPU adapter", warn: true },
  );
});

Deno.test("candidateRows gives each candidate's speeds, or why it is out, and marks the chosen", () => {
  assert.deepEqual(candidateRows(measured("studio")), [
    { name: "CPU q4", chosen: false, decode: "27.5 tok/s", prompt: "118 tok/s", out: null },
    { name: "WebGPU q4", chosen: true, decode: "41.2 tok/s", prompt: "311 tok/s", out: null },
  ]);
  assert.deepEqual(candidateRows(measured("mini")), [
    { name: "CPU q4", chosen: true, decode: "212 tok/s", prompt: "1544 tok/s", out: null },
    {
      name: "WebGPU q4",
      chosen: false,
      decode: null,
      prompt: null,
      out: "out: its outputs differ from the CPU's by 0.32 (tolerance 0.02)",
    },
  ]);
});

Deno.test("autoFootnotes say when and where auto measured, and when its choice was kept", () => {
  const now = new Date(2026, 11, 7, 18, 0).getTime();
  assert.deepEqual(autoFootnotes(measured("studio"), now), [
    "measured 09:41 on layers 0–3 (projected to this node's layers)",
  ]);
  assert.deepEqual(
    autoFootnotes(measured("mini", { measured_at: new Date(2025, 2, 3, 18, 5).getTime() }), now),
    [
      "measured 3 Mar 2025 18:05 on layer 15",
      "kept from an earlier start; --reprobe measures again",
    ],
  );
});

Deno.test("formatClock writes the time today, the day before, the year in another year", () => {
  const now = new Date(2026, 11, 7, 18, 0).getTime();
  assert.equal(formatClock(new Date(2026, 11, 7, 0, 5).getTime(), now), "00:05");
  assert.equal(formatClock(new Date(2026, 11, 6, 23, 59).getTime(), now), "6 Dec 23:59");
  assert.equal(formatClock(new Date(2025, 0, 31, 7, 0).getTime(), now), "31 Jan 2025 07:00");
  assert.equal(formatClock(NaN, now), "—");
});
