import type { ClusterView } from "../topology/topology.ts";
import { planRequest } from "../orchestration/plan_request.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import type { EngineReport } from "./engine_report.ts";

/** One node in the `/v1/topology` answer. */
export interface TopologySnapshotNode {
  id: string;
  capabilities: DeviceCapabilities;
  alive: boolean;
  hops: number;
  via: string | null;
  /** The socket address of a direct connection, if any. */
  address: string | null;
  rtt_ms: number | null;
  /** The shard the node has loaded and where ONNX Runtime runs it; null before a load. */
  engine: TopologyEngine | null;
}

/** A node's loaded shard as `/v1/topology` shows it. */
export interface TopologyEngine {
  model: string;
  start_layer: number;
  end_layer: number;
  dtype: string;
  requested_provider: string;
  active_provider: string;
  fallback_reason: string | null;
  /** Nodes of the shard's graph per ORT provider, most first. */
  placement: { provider: string; nodes: number }[];
  loaded_at: number;
}

/** The layer split a request for the default model would get now. */
export interface TopologyPartition {
  model: string;
  num_layers: number;
  shards: { node_id: string; start_layer: number; end_layer: number }[];
}

/** The `/v1/topology` answer. */
export interface TopologySnapshot {
  node_id: string;
  nodes: TopologySnapshotNode[];
  edges: { from: string; to: string }[];
  partition: TopologyPartition | null;
}

/** Connection details of the direct peers, by id. */
export type DirectLinks = ReadonlyMap<string, { address: string; rttMs: number | null }>;

/**
 * Renders a view as the topology answer, with the layer split a request for the default
 * model would get now (see `planRequest`) when its layer count is known.
 */
export function topologySnapshot(
  view: ClusterView,
  links: DirectLinks,
  model: { id: string; numLayers: number } | null,
  engineOf: (nodeId: string) => EngineReport | null = () => null,
): TopologySnapshot {
  const partition = model
    ? {
      model: model.id,
      num_layers: model.numLayers,
      shards: planRequest(view, model.numLayers).map((s) => ({
        node_id: s.nodeId,
        start_layer: s.startLayer,
        end_layer: s.endLayer,
      })),
    }
    : null;
  return {
    node_id: view.selfId,
    nodes: view.nodes.map((node) => ({
      id: node.nodeId,
      capabilities: node.capabilities,
      alive: node.alive,
      hops: node.hops,
      via: node.via ?? null,
      address: links.get(node.nodeId)?.address ?? null,
      rtt_ms: links.get(node.nodeId)?.rttMs ?? null,
      engine: toEngine(engineOf(node.nodeId)),
    })),
    edges: view.edges.map(({ from, to }) => ({ from, to })),
    partition,
  };
}

function toEngine(report: EngineReport | null): TopologyEngine | null {
  if (report === null) return null;
  return {
    model: report.model,
    start_layer: report.startLayer,
    end_layer: report.endLayer,
    dtype: report.dtype,
    requested_provider: report.requestedProvider,
    active_provider: report.activeProvider,
    fallback_reason: report.fallbackReason,
    placement: report.placement,
    loaded_at: report.at,
  };
}
