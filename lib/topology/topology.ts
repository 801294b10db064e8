import type { TopologyEdge, TopologyNodeInfo } from "../protocol/messages.ts";
import type { DeviceCapabilities } from "./device_capabilities.ts";
import { isValidNodeId } from "./node_id.ts";

/**
 * Farthest a node may be, in hops, and still be part of the view. Knowledge that travels
 * farther is dropped, which also bounds how long a dead node can echo between peers that
 * learned it from each other.
 */
export const MAX_HOPS = 4;

/** The body of a topology reply: nodes with their distance from the sender, and edges. */
export interface TopologyReport {
  nodes: TopologyNodeInfo[];
  edges: TopologyEdge[];
}

/** What a node knows when it computes its view of the cluster. */
export interface ClusterViewInput {
  selfId: string;
  selfCapabilities: DeviceCapabilities;
  /** Peers with a live connection, with the capabilities from their handshake. */
  connected: ReadonlyMap<string, DeviceCapabilities>;
  /**
   * Peers this node was told about (the peers file), with the file's capabilities or the
   * placeholder. Those also in `connected` are ignored here.
   */
  known: ReadonlyMap<string, DeviceCapabilities>;
  /** The latest report of each connected peer; reports of other peers are ignored. */
  reports: ReadonlyMap<string, TopologyReport>;
}

/** One node of the view. */
export interface ClusterNode {
  nodeId: string;
  capabilities: DeviceCapabilities;
  /** 0 for this node, 1 for a direct peer, more for a node learned through peers. */
  hops: number;
  /** Connected directly or through a peer; false for a known peer that is not connected. */
  alive: boolean;
  /** The direct peer this node was learned through; absent for this node and direct peers. */
  via?: string;
}

/** This node's picture of the cluster. */
export interface ClusterView {
  selfId: string;
  /** Ordered by hops, then id. */
  nodes: ClusterNode[];
  /** Connections between alive nodes, ordered by `from`, then `to`. */
  edges: TopologyEdge[];
}

/**
 * Computes this node's view of the cluster from scratch, so a node no peer reports any
 * more vanishes at the next computation.
 *
 * This node and its connected peers come first-hand. Every node a connected peer reports
 * at distance `h` is `h + 1` away from here through that peer; the nearest report wins
 * (ties go to the lowest peer id), first-hand knowledge always wins, and anything beyond
 * {@linkcode MAX_HOPS} is dropped. A node known only through a peer counts as alive: it is
 * alive for the peer that reported it. Known peers that are neither connected nor
 * reported are listed as not alive, one hop away. Edges are this node's own connections
 * plus the reported ones whose both ends are alive in the view.
 */
export function buildClusterView(input: ClusterViewInput): ClusterView {
  const { selfId } = input;
  const nodes = new Map<string, ClusterNode>();
  nodes.set(selfId, { nodeId: selfId, capabilities: input.selfCapabilities, hops: 0, alive: true });
  for (const [nodeId, capabilities] of input.connected) {
    if (nodeId !== selfId) nodes.set(nodeId, { nodeId, capabilities, hops: 1, alive: true });
  }

  for (const [peerId, report] of liveReports(input)) {
    for (const info of report.nodes) {
      if (!isValidNodeId(info.nodeId) || !isUsableHops(info.hops)) continue;
      const hops = info.hops + 1;
      if (hops > MAX_HOPS) continue;
      const current = nodes.get(info.nodeId);
      if (current && (current.via === undefined || current.hops <= hops)) continue;
      nodes.set(info.nodeId, {
        nodeId: info.nodeId,
        capabilities: info.capabilities,
        hops,
        alive: true,
        via: peerId,
      });
    }
  }

  for (const [nodeId, capabilities] of input.known) {
    if (!nodes.has(nodeId)) nodes.set(nodeId, { nodeId, capabilities, hops: 1, alive: false });
  }

  return {
    selfId,
    nodes: [...nodes.values()].sort(byHopsThenId),
    edges: collectEdges(input, nodes),
  };
}

/**
 * Turns a view into the report this node sends in a topology reply: its alive nodes with
 * their distance from here, and its edges. Nodes learned through `forPeer` are left out of
 * the report sent to that peer (split horizon), so a peer never hears back about a node
 * only it knows, and a node that dies vanishes at once instead of echoing to MAX_HOPS.
 */
export function toTopologyReport(view: ClusterView, forPeer?: string): TopologyReport {
  const nodes = view.nodes
    .filter((node) => node.alive && (forPeer === undefined || node.via !== forPeer))
    .map(({ nodeId, capabilities, hops }) => ({ nodeId, capabilities, hops }));
  return { nodes, edges: view.edges.map(({ from, to }) => ({ from, to })) };
}

// Reports are visited in peer-id order so the tie-break does not depend on Map order.
function liveReports(input: ClusterViewInput): [string, TopologyReport][] {
  return [...input.reports]
    .filter(([peerId]) => peerId !== input.selfId && input.connected.has(peerId))
    .sort(([a], [b]) => compareIds(a, b));
}

function isUsableHops(hops: number): boolean {
  return Number.isSafeInteger(hops) && hops >= 0;
}

function collectEdges(
  input: ClusterViewInput,
  nodes: ReadonlyMap<string, ClusterNode>,
): TopologyEdge[] {
  const isAlive = (id: string) => nodes.get(id)?.alive === true;
  const edges = new Map<string, TopologyEdge>();
  const add = (from: string, to: string) => {
    if (from !== to && isAlive(from) && isAlive(to)) edges.set(`${from}\n${to}`, { from, to });
  };
  for (const peerId of input.connected.keys()) add(input.selfId, peerId);
  for (const [, report] of liveReports(input)) {
    for (const edge of report.edges) add(edge.from, edge.to);
  }
  return [...edges.values()].sort((a, b) => compareIds(a.from, b.from) || compareIds(a.to, b.to));
}

function byHopsThenId(a: ClusterNode, b: ClusterNode): number {
  return a.hops - b.hops || compareIds(a.nodeId, b.nodeId);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
