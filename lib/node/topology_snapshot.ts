import type { ClusterView } from "../topology/topology.ts";
import { planRequest } from "../orchestration/plan_request.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import type { AutoReport, EngineReport } from "./engine_report.ts";
import type { DiscoveryStatus } from "../discovery/udp_discovery.ts";
import type { InterfaceType } from "../discovery/interface_type.ts";
import type { TopologyAuto } from "./topology_auto.ts";

export type { TopologyAuto } from "./topology_auto.ts";

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
  /**
   * This node's interface a direct connection goes over (lo for a tunnel), null when not
   * directly connected or not known. Always present in what a node serves.
   */
  interface?: { name: string; type: InterfaceType } | null;
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
  /**
   * What `--execution-provider auto` measured and chose; null when the provider was named.
   * Always present in what a node serves.
   */
  auto?: TopologyAuto | null;
  loaded_at: number;
}

/** The layer split a request for the default model would get now. */
export interface TopologyPartition {
  model: string;
  num_layers: number;
  shards: { node_id: string; start_layer: number; end_layer: number }[];
}

/** How this node finds peers, as `/v1/topology` shows it. */
export interface TopologyDiscovery {
  /** The discovery modules running: "manual" (a peers file), "udp" or both. */
  modules: ("manual" | "udp")[];
  peers_file: string | null;
  udp: TopologyUdp | null;
}

/** UDP discovery's state. */
export interface TopologyUdp {
  listen_port: number;
  broadcast_port: number;
  broadcast_interval_s: number;
  discovery_timeout_s: number;
  /** This process's instance id, as its announcements carry it. */
  instance: string;
  /** Where announcements go, best interface first. */
  announcing_on: {
    interface: string;
    type: InterfaceType;
    priority: number;
    address: string;
    broadcast: string;
  }[];
  /** Every node process heard, with each address it was heard on. */
  heard: {
    node_id: string;
    instance: string;
    addresses: {
      address: string;
      node_port: number;
      /** The interface the node announced on, and its type there. */
      interface: string;
      type: InterfaceType;
      /** This node's interface the address is reached over. */
      via: string;
      via_type: InterfaceType;
      seen_s_ago: number;
    }[];
  }[];
  /** Datagrams read, by what became of them (docs/PROTOCOL.md, section 10). */
  datagrams: DiscoveryStatus["datagrams"];
}

/** The `/v1/topology` answer. */
export interface TopologySnapshot {
  node_id: string;
  nodes: TopologySnapshotNode[];
  edges: { from: string; to: string }[];
  partition: TopologyPartition | null;
  /** How this node finds peers; always present in what a node serves. */
  discovery?: TopologyDiscovery | null;
}

/** Connection details of the direct peers, by id. */
export type DirectLinks = ReadonlyMap<
  string,
  {
    address: string;
    rttMs: number | null;
    interface?: { name: string; type: InterfaceType } | null;
  }
>;

/** What a snapshot says about discovery. */
export interface DiscoveryInput {
  peersFile: string | null;
  udp: DiscoveryStatus | null;
}

/**
 * Renders a view as the topology answer, with the layer split a request for the default
 * model would get now (see `planRequest`) when its layer count is known.
 */
export function topologySnapshot(
  view: ClusterView,
  links: DirectLinks,
  model: { id: string; numLayers: number } | null,
  engineOf: (nodeId: string) => EngineReport | null = () => null,
  discovery: DiscoveryInput | null = null,
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
      interface: links.get(node.nodeId)?.interface ?? null,
      engine: toEngine(engineOf(node.nodeId)),
    })),
    edges: view.edges.map(({ from, to }) => ({ from, to })),
    partition,
    discovery: discovery && toDiscovery(discovery),
  };
}

function toDiscovery(input: DiscoveryInput): TopologyDiscovery {
  const modules: TopologyDiscovery["modules"] = [];
  if (input.peersFile !== null) modules.push("manual");
  if (input.udp !== null) modules.push("udp");
  return { modules, peers_file: input.peersFile, udp: input.udp && toUdp(input.udp) };
}

function toUdp(status: DiscoveryStatus): TopologyUdp {
  const now = performance.now();
  return {
    listen_port: status.listenPort,
    broadcast_port: status.broadcastPort,
    broadcast_interval_s: status.intervalMs / 1000,
    discovery_timeout_s: status.forgetMs / 1000,
    instance: status.instance,
    announcing_on: status.announcingOn.map((t) => ({
      interface: t.name,
      type: t.type,
      priority: t.priority,
      address: t.address,
      broadcast: t.broadcast,
    })),
    heard: status.heard.map((entry) => ({
      node_id: entry.nodeId,
      instance: entry.instance,
      addresses: [...entry.addresses.values()].map((heard) => ({
        address: heard.host,
        node_port: heard.port,
        interface: heard.remoteInterface.name,
        type: heard.remoteInterface.type,
        via: heard.localInterface.name,
        via_type: heard.localInterface.type,
        seen_s_ago: Math.round((now - heard.lastSeen) / 100) / 10,
      })),
    })),
    datagrams: status.datagrams,
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
    auto: toAuto(report.auto ?? null),
    loaded_at: report.at,
  };
}

function toAuto(auto: AutoReport | null): TopologyAuto | null {
  if (auto === null) return null;
  return {
    chosen: auto.provider,
    dtype: auto.dtype,
    cached: auto.cached,
    measured_at: auto.measuredAt,
    probe_layers: {
      start_layer: auto.probeLayers.startLayer,
      end_layer: auto.probeLayers.endLayer,
    },
    projected: auto.projected,
    candidates: auto.candidates.map((c) => ({
      provider: c.provider,
      dtype: c.dtype,
      decode_tokens_per_second: c.decodeTokensPerSecond,
      prefill_tokens_per_second: c.prefillTokensPerSecond,
      out: c.out,
    })),
  };
}
