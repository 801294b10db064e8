import assert from "node:assert/strict";
import { buildViewModel } from "../../lib/tui/build_view_model.ts";
import type {
  TopologyAuto,
  TopologyEngine,
  TopologySnapshot,
  TopologySnapshotNode,
} from "../../lib/node/topology_snapshot.ts";
import { AUTO_CPU, AUTO_WEBGPU, NAMED_CPU } from "./_view_fixture.ts";

const CAPS = {
  model: "Mac mini",
  chip: "Apple M2",
  memory: 8192,
  flops: { fp32: 3.55, fp16: 7.1, int8: 14.2 },
};

function candidate(provider: string, decode: number | null, out: string | null = null) {
  return {
    provider,
    dtype: "q4",
    decode_tokens_per_second: decode,
    prefill_tokens_per_second: decode === null ? null : decode * 7,
    out,
  };
}

function auto(chosen: string, candidates: TopologyAuto["candidates"]): TopologyAuto {
  return {
    chosen,
    dtype: "q4",
    cached: false,
    measured_at: 0,
    probe_layers: { start_layer: 0, end_layer: 3 },
    projected: true,
    candidates,
  };
}

function node(id: string, engine: Partial<TopologyEngine> | null): TopologySnapshotNode {
  return {
    id,
    capabilities: CAPS,
    alive: true,
    hops: 0,
    via: null,
    address: null,
    rtt_ms: null,
    engine: engine && {
      model: "llama-3.2-1b",
      start_layer: 0,
      end_layer: 7,
      dtype: "q4",
      requested_provider: "auto",
      active_provider: "cpu",
      fallback_reason: null,
      placement: [],
      auto: null,
      loaded_at: 0,
      ...engine,
    },
  };
}

function engines(nodes: TopologySnapshotNode[]) {
  const topology: TopologySnapshot = { node_id: nodes[0].id, nodes, edges: [], partition: null };
  const model = buildViewModel({
    version: "0.1.0",
    apiUrls: [],
    nodePort: 0,
    logFile: "",
    topology,
    computing: [],
    requests: [],
    downloads: [],
    logs: [],
    activity: [],
  });
  return Object.fromEntries(model.nodes.map((n) => [n.id, n.engine]));
}

Deno.test("buildViewModel gives each node auto's speed and the fastest other candidate's", () => {
  assert.deepEqual(
    engines([
      node("gpu", {
        active_provider: "webgpu",
        auto: auto("webgpu", [
          candidate("cpu", 27.5),
          candidate("webgpu", 41.2),
          candidate("coreml", null, "most nodes on the CPU"),
        ]),
      }),
      node("cpu", {
        auto: auto("cpu", [candidate("cpu", 12.7), candidate("webgpu", null, "wrong")]),
      }),
      node("alone", { auto: auto("cpu", [candidate("cpu", 5579)]) }),
      node("named", { requested_provider: "cpu" }),
      node("idle", null),
    ]),
    {
      gpu: AUTO_WEBGPU,
      cpu: AUTO_CPU,
      alone: { ...NAMED_CPU, auto: { tokensPerSecond: 5579, runnerUp: null } },
      named: NAMED_CPU,
      idle: null,
    },
  );
});

Deno.test("buildViewModel names the provider a shard fell back from, named or auto's", () => {
  const kept = auto("webgpu", [candidate("cpu", 27.5), candidate("webgpu", 41.2)]);
  const shown = engines([
    node("auto", { fallback_reason: "no WebGPU adapter", auto: kept }),
    node("named", { requested_provider: "webgpu", fallback_reason: "no WebGPU adapter" }),
  ]);
  assert.equal(shown.auto?.fellBackFrom, "webgpu");
  assert.equal(shown.auto?.provider, "cpu");
  assert.equal(shown.named?.fellBackFrom, "webgpu");
});
