import assert from "node:assert/strict";
import {
  type AutoReport,
  EngineBoard,
  type EngineReport,
  parseEngineReport,
} from "../../lib/node/engine_report.ts";
import { topologySnapshot } from "../../lib/node/topology_snapshot.ts";
import { buildClusterView } from "../../lib/topology/topology.ts";

const REPORT: EngineReport = {
  event: "engine",
  nodeId: "mac2",
  model: "llama-3.2-1b",
  startLayer: 8,
  endLayer: 15,
  dtype: "q4",
  requestedProvider: "webgpu",
  activeProvider: "webgpu",
  fallbackReason: null,
  placement: [{ provider: "WebGpuExecutionProvider", nodes: 90 }],
  auto: null,
  at: 1700000000000,
};

const AUTO: AutoReport = {
  provider: "webgpu",
  dtype: "q4",
  candidates: [
    {
      provider: "webgpu",
      dtype: "q4",
      decodeTokensPerSecond: 41.2,
      prefillTokensPerSecond: 310,
      out: null,
    },
    {
      provider: "cpu",
      dtype: "q4",
      decodeTokensPerSecond: 27.5,
      prefillTokensPerSecond: 120,
      out: null,
    },
    {
      provider: "coreml",
      dtype: "float16",
      decodeTokensPerSecond: null,
      prefillTokensPerSecond: null,
      out: "CoreML would run 4 of 122 nodes, the rest on the CPU",
    },
  ],
  probeLayers: { startLayer: 12, endLayer: 15 },
  projected: true,
  measuredAt: 1699999990000,
  cached: false,
};

Deno.test("parseEngineReport reads a report and refuses every malformed field", () => {
  assert.deepEqual(parseEngineReport(JSON.stringify(REPORT)), REPORT);
  const bad: Record<string, unknown>[] = [
    { startLayer: -1 },
    { endLayer: 3 },
    { startLayer: 1.5 },
    { model: 7 },
    { model: "x".repeat(5000) },
    { activeProvider: null },
    { fallbackReason: 3 },
    { placement: "all" },
    { placement: [{ provider: "WebGpuExecutionProvider", nodes: -1 }] },
    { placement: new Array(17).fill({ provider: "p", nodes: 1 }) },
    { at: "now" },
  ];
  for (const change of bad) {
    assert.equal(
      parseEngineReport(JSON.stringify({ ...REPORT, ...change })),
      null,
      JSON.stringify(change),
    );
  }
  assert.equal(parseEngineReport("{not json"), null);
  const { auto: _, ...older } = REPORT;
  assert.deepEqual(parseEngineReport(JSON.stringify(older)), REPORT, "an older build's report");
});

Deno.test("parseEngineReport reads what auto measured and refuses every malformed part of it", () => {
  const withAuto = { ...REPORT, requestedProvider: "auto", auto: AUTO };
  assert.deepEqual(parseEngineReport(JSON.stringify(withAuto)), withAuto);
  const candidate = AUTO.candidates[0];
  const bad: Record<string, unknown>[] = [
    { provider: 3 },
    { cached: "yes" },
    { projected: null },
    { measuredAt: "then" },
    { probeLayers: { startLayer: 3, endLayer: 1 } },
    { probeLayers: null },
    { candidates: "all" },
    { candidates: new Array(9).fill(candidate) },
    { candidates: [{ ...candidate, decodeTokensPerSecond: -1 }] },
    { candidates: [{ ...candidate, prefillTokensPerSecond: "fast" }] },
    { candidates: [{ ...candidate, out: 7 }] },
    { candidates: [{ ...candidate, out: "x".repeat(5000) }] },
    { candidates: [null] },
  ];
  for (const change of bad) {
    const report = { ...withAuto, auto: { ...AUTO, ...change } };
    assert.equal(parseEngineReport(JSON.stringify(report)), null, JSON.stringify(change));
  }
  assert.equal(parseEngineReport(JSON.stringify({ ...withAuto, auto: [AUTO] })), null);
  assert.equal(parseEngineReport(JSON.stringify({ ...withAuto, auto: "cpu" })), null);
  assert.equal(parseEngineReport(JSON.stringify({ ...REPORT, event: "download" })), null);
});

Deno.test("EngineBoard keeps each peer's report under the sender's id and consumes bad ones", () => {
  const board = new EngineBoard();
  assert.equal(board.fromPeer(JSON.stringify({ ...REPORT, nodeId: "liar" }), "mac2"), true);
  assert.equal(board.get("mac2")?.nodeId, "mac2");
  assert.equal(board.get("liar"), undefined);
  assert.equal(board.fromPeer(JSON.stringify({ ...REPORT, startLayer: "x" }), "mac3"), true);
  assert.equal(board.get("mac3"), undefined, "a malformed report is dropped");
  assert.equal(board.fromPeer(JSON.stringify({ event: "download" }), "mac2"), false);
  board.forget("mac2");
  assert.equal(board.get("mac2"), undefined);
});

Deno.test("topologySnapshot shows each node's engine, null before a load", () => {
  const view = buildClusterView({
    selfId: "mac1",
    selfCapabilities: { model: "m", chip: "c", memory: 1000, flops: { fp32: 0, fp16: 0, int8: 0 } },
    connected: new Map([["mac2", {
      model: "m",
      chip: "c",
      memory: 1000,
      flops: { fp32: 0, fp16: 0, int8: 0 },
    }]]),
    known: new Map(),
    reports: new Map(),
  });
  const snapshot = topologySnapshot(view, new Map(), null, (id) => id === "mac2" ? REPORT : null);
  const byId = Object.fromEntries(snapshot.nodes.map((n) => [n.id, n.engine]));
  assert.equal(byId.mac1, null);
  assert.deepEqual(byId.mac2, {
    model: "llama-3.2-1b",
    start_layer: 8,
    end_layer: 15,
    dtype: "q4",
    requested_provider: "webgpu",
    active_provider: "webgpu",
    fallback_reason: null,
    placement: [{ provider: "WebGpuExecutionProvider", nodes: 90 }],
    auto: null,
    loaded_at: 1700000000000,
  });
});

Deno.test("topologySnapshot shows what auto measured: the choice and every candidate", () => {
  const view = buildClusterView({
    selfId: "mac1",
    selfCapabilities: { model: "m", chip: "c", memory: 1000, flops: { fp32: 0, fp16: 0, int8: 0 } },
    connected: new Map(),
    known: new Map(),
    reports: new Map(),
  });
  const report = { ...REPORT, nodeId: "mac1", requestedProvider: "auto", auto: AUTO };
  const [node] = topologySnapshot(view, new Map(), null, () => report).nodes;
  assert.equal(node.engine?.requested_provider, "auto");
  assert.deepEqual(node.engine?.auto, {
    chosen: "webgpu",
    dtype: "q4",
    cached: false,
    measured_at: 1699999990000,
    probe_layers: { start_layer: 12, end_layer: 15 },
    projected: true,
    candidates: [
      {
        provider: "webgpu",
        dtype: "q4",
        decode_tokens_per_second: 41.2,
        prefill_tokens_per_second: 310,
        out: null,
      },
      {
        provider: "cpu",
        dtype: "q4",
        decode_tokens_per_second: 27.5,
        prefill_tokens_per_second: 120,
        out: null,
      },
      {
        provider: "coreml",
        dtype: "float16",
        decode_tokens_per_second: null,
        prefill_tokens_per_second: null,
        out: "CoreML would run 4 of 122 nodes, the rest on the CPU",
      },
    ],
  });
});
