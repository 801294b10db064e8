import type { DownloadEvent } from "../model/download_progress.ts";
import type { TopologyEngine, TopologySnapshot } from "../node/topology_snapshot.ts";
import type { RequestProgress } from "../orchestration/request_progress.ts";
import type { TuiEngine, TuiLogLine, TuiNode, TuiViewModel } from "./view_model.ts";

/** What the node knows, as the view model is built from it each frame. */
export interface ViewModelInput {
  version: string;
  apiUrls: string[];
  nodePort: number;
  logFile: string;
  topology: TopologySnapshot;
  /** The ids of the nodes computing now. */
  computing: readonly string[];
  /** Newest first. */
  requests: readonly RequestProgress[];
  downloads: readonly DownloadEvent[];
  logs: TuiLogLine[];
  activity: TuiLogLine[];
}

/**
 * The view model of a node: its topology with each node's layers (the split of the
 * default model, else the shard each node has loaded), the recent requests of the ring,
 * the downloads and the log pane.
 */
export function buildViewModel(input: ViewModelInput): TuiViewModel {
  const { topology } = input;
  const partition = topology.partition;
  const computing = new Set(input.computing);
  const loaded = topology.nodes.find((n) => n.id === topology.node_id)?.engine ??
    topology.nodes.find((n) => n.engine !== null)?.engine ?? null;
  const nodes: TuiNode[] = topology.nodes.map((node) => {
    const shard = partition?.shards.find((s) => s.node_id === node.id);
    const engine =
      node.engine !== null && (partition === null || node.engine.model === partition.model)
        ? node.engine
        : null;
    return {
      id: node.id,
      chip: node.capabilities.chip,
      memoryMb: node.capabilities.memory,
      tflops: node.capabilities.flops.fp32,
      alive: node.alive,
      self: node.id === topology.node_id,
      rttMs: node.rtt_ms,
      layers: shard
        ? { start: shard.start_layer, end: shard.end_layer }
        : partition === null && engine !== null
        ? { start: engine.start_layer, end: engine.end_layer }
        : null,
      computing: node.alive && computing.has(node.id),
      engine: engine && tuiEngine(engine),
    };
  });
  return {
    nodeId: topology.node_id,
    version: input.version,
    apiUrls: input.apiUrls,
    nodePort: input.nodePort,
    logFile: input.logFile,
    model: partition
      ? { id: partition.model, numLayers: partition.num_layers }
      : loaded
      ? { id: loaded.model, numLayers: null }
      : null,
    nodes,
    requests: input.requests.map((r) => ({
      id: r.requestId,
      origin: r.origin,
      model: r.model,
      prompt: r.prompt,
      output: r.output,
      state: r.state,
      tokens: r.tokens,
      tokensPerSecond: r.tokensPerSecond,
      ttftMs: r.ttftMs,
      ...(r.error === undefined ? {} : { error: r.error }),
      startedAt: r.startedAt,
    })),
    downloads: [...input.downloads],
    logs: input.logs,
    activity: input.activity,
  };
}

/**
 * A node's engine as its line shows it: the provider and weights it runs on, the one it
 * fell back from, and auto's decode speed for the chosen candidate beside the best other.
 */
function tuiEngine(engine: TopologyEngine): TuiEngine {
  const auto = engine.auto ?? null;
  const wanted = engine.requested_provider === "auto"
    ? auto?.chosen ?? null
    : engine.requested_provider;
  const fellBackFrom = wanted !== null && wanted !== engine.active_provider ? wanted : null;
  const base = { provider: engine.active_provider, dtype: engine.dtype, fellBackFrom };
  if (auto === null) return { ...base, auto: null };
  const isChosen = (c: { provider: string; dtype: string }) =>
    c.provider === auto.chosen && c.dtype === auto.dtype;
  const chosen = auto.candidates.find((c) => c.out === null && isChosen(c));
  const others = auto.candidates.filter((c) => !isChosen(c));
  const ran = others.filter((c) => c.out === null && c.decode_tokens_per_second !== null)
    .sort((a, b) => b.decode_tokens_per_second! - a.decode_tokens_per_second!);
  const runnerUp = ran[0] ?? others.find((c) => c.out !== null) ?? null;
  return {
    ...base,
    auto: {
      tokensPerSecond: chosen?.decode_tokens_per_second ?? null,
      runnerUp: runnerUp && {
        provider: runnerUp.provider,
        dtype: runnerUp.dtype,
        tokensPerSecond: runnerUp.out === null ? runnerUp.decode_tokens_per_second : null,
      },
    },
  };
}
