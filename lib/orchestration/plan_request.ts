import type { ClusterView } from "../topology/topology.ts";
import { partitionLayers, type ShardRange } from "../topology/partition.ts";

/**
 * The pipeline for one request: this node and the directly connected peers that are all
 * connected to each other, split by memory (the ring memory-weighted partition). Each
 * shard sends to the next, the last to the origin and back to the first, over one
 * connection per pair, so a peer is taken only when it is connected to every node taken
 * before it (peers in id order). Nodes known only through a peer are left out.
 * @throws {RangeError} when `numLayers` is not a positive integer.
 */
export function planRequest(view: ClusterView, numLayers: number): ShardRange[] {
  const links = new Set(view.edges.map(({ from, to }) => `${from}\n${to}`));
  const linked = (a: string, b: string) => links.has(`${a}\n${b}`) || links.has(`${b}\n${a}`);
  const taken = view.nodes.filter((node) => node.nodeId === view.selfId);
  const peers = view.nodes
    .filter((node) => node.alive && node.hops === 1)
    .sort((a, b) => a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);
  for (const peer of peers) {
    if (taken.every((node) => node.nodeId === view.selfId || linked(node.nodeId, peer.nodeId))) {
      taken.push(peer);
    }
  }
  return partitionLayers(
    taken.map((node) => ({ nodeId: node.nodeId, memory: node.capabilities.memory })),
    numLayers,
  );
}
