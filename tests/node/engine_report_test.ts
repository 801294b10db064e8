import assert from "node:assert/strict";
import { EngineBoard, type EngineReport, parseEngineReport } from "../../lib/node/engine_report.ts";
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
  at: 1700000000000,
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
    loaded_at: 1700000000000,
  });
});
