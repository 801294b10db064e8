/**
 * The clusters the page tests' fake node reports in `/v1/topology`: two Macs with named
 * providers (the cluster of issue 27), and three Macs whose nodes chose differently.
 * @module
 */
import type {
  TopologyAuto,
  TopologyEngine,
  TopologySnapshotNode,
} from "../../lib/node/topology_snapshot.ts";

/** A cluster as a fake node reports it: its nodes, the first this page's, and its split. */
export interface FakeCluster {
  nodes: TopologySnapshotNode[];
  /** The split of any model over the nodes: 16 layers. */
  shards: { node_id: string; start_layer: number; end_layer: number }[];
}

const M2 = { model: "Mac mini", chip: "Apple M2", flops: { fp32: 3.55, fp16: 7.1, int8: 14.2 } };
const M1_PRO = {
  model: "MacBook Pro",
  chip: "Apple M1 Pro",
  flops: { fp32: 5.3, fp16: 10.6, int8: 21.2 },
};

/** A loaded shard on `provider`, named by `--execution-provider`, with its graph's placement. */
function engine(
  provider: string,
  layers: [number, number],
  placement: [string, number][],
  auto: TopologyAuto | null = null,
): TopologyEngine {
  return {
    model: "llama-3.2-1b",
    start_layer: layers[0],
    end_layer: layers[1],
    dtype: provider === "coreml" ? "float16" : "q4",
    requested_provider: auto === null ? provider : "auto",
    active_provider: provider,
    fallback_reason: null,
    placement: placement.map(([p, nodes]) => ({ provider: p, nodes })),
    auto,
    loaded_at: 0,
  };
}

function node(
  id: string,
  capabilities: TopologySnapshotNode["capabilities"],
  rttMs: number | null,
  loaded: TopologyEngine,
): TopologySnapshotNode {
  return {
    id,
    capabilities,
    alive: true,
    hops: rttMs === null ? 0 : 1,
    via: null,
    address: rttMs === null ? null : "127.0.0.1:50052",
    rtt_ms: rttMs,
    engine: loaded,
  };
}

/**
 * The cluster of issue 27, 24,105 MB together (a 70B model does not fit): mac1 (this page)
 * on CoreML with most graph nodes on the CPU, mac2 on WebGPU.
 */
export function twoMacs(): FakeCluster {
  return {
    nodes: [
      node(
        "mac1",
        { ...M2, memory: 8192 },
        null,
        engine("coreml", [11, 15], [["CPUExecutionProvider", 118], [
          "CoreMLExecutionProvider",
          4,
        ]]),
      ),
      node(
        "mac2",
        { ...M1_PRO, memory: 15913 },
        0.8,
        engine("webgpu", [0, 10], [["WebGpuExecutionProvider", 122]]),
      ),
    ],
    shards: [
      { node_id: "mac2", start_layer: 0, end_layer: 10 },
      { node_id: "mac1", start_layer: 11, end_layer: 15 },
    ],
  };
}

/** When the auto cluster's fresh choice was measured: today, 09:41 local time. */
export function measuredToday(): number {
  const today = new Date();
  return new Date(today.getFullYear(), today.getMonth(), today.getDate(), 9, 41).getTime();
}

/** When its kept choice was measured: 3 March of last year, 18:05 local time. */
export function measuredLastYear(): number {
  return new Date(new Date().getFullYear() - 1, 2, 3, 18, 5).getTime();
}

/**
 * Three Macs that chose differently: "studio" (this page) measured WebGPU faster than the
 * CPU on a slice of its layers; "mini" keeps a choice of the CPU from an earlier start, as
 * WebGPU disagreed with the CPU there; "macbook" was told `--execution-provider coreml`.
 */
export function autoCluster(): FakeCluster {
  const studio: TopologyAuto = {
    chosen: "webgpu",
    dtype: "q4",
    cached: false,
    measured_at: measuredToday(),
    probe_layers: { start_layer: 0, end_layer: 3 },
    projected: true,
    candidates: [
      {
        provider: "cpu",
        dtype: "q4",
        decode_tokens_per_second: 27.5,
        prefill_tokens_per_second: 118.4,
        out: null,
      },
      {
        provider: "webgpu",
        dtype: "q4",
        decode_tokens_per_second: 41.2,
        prefill_tokens_per_second: 310.6,
        out: null,
      },
    ],
  };
  const mini: TopologyAuto = {
    chosen: "cpu",
    dtype: "q4",
    cached: true,
    measured_at: measuredLastYear(),
    probe_layers: { start_layer: 15, end_layer: 15 },
    projected: false,
    candidates: [
      {
        provider: "cpu",
        dtype: "q4",
        decode_tokens_per_second: 212.3,
        prefill_tokens_per_second: 1544,
        out: null,
      },
      {
        provider: "webgpu",
        dtype: "q4",
        decode_tokens_per_second: null,
        prefill_tokens_per_second: null,
        out: "its outputs differ from the CPU's by 0.32 (tolerance 0.02)",
      },
    ],
  };
  return {
    nodes: [
      node(
        "studio",
        {
          model: "Mac Studio",
          chip: "Apple M2 Ultra",
          memory: 65536,
          flops: { fp32: 27.2, fp16: 54.4, int8: 108.8 },
        },
        null,
        engine("webgpu", [0, 11], [["WebGpuExecutionProvider", 122]], studio),
      ),
      node(
        "macbook",
        { ...M1_PRO, memory: 15913 },
        0.8,
        engine("coreml", [12, 14], [["CPUExecutionProvider", 118], [
          "CoreMLExecutionProvider",
          4,
        ]]),
      ),
      node(
        "mini",
        { ...M2, memory: 8192 },
        1.3,
        engine("cpu", [15, 15], [["CPUExecutionProvider", 22]], mini),
      ),
    ],
    shards: [
      { node_id: "studio", start_layer: 0, end_layer: 11 },
      { node_id: "macbook", start_layer: 12, end_layer: 14 },
      { node_id: "mini", start_layer: 15, end_layer: 15 },
    ],
  };
}
