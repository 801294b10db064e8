import { freePort } from "../_helpers/free_port.ts";
import { NodeProcess } from "../_helpers/node_process.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";

/** Where a test node listens, known before it starts so peers files can name it. */
export interface Endpoint {
  id: string;
  nodePort: number;
  apiPort: number;
}

/** Picks free ports for the given node ids. */
export function endpoints(...ids: string[]): Endpoint[] {
  return ids.map((id) => ({ id, nodePort: freePort(), apiPort: freePort() }));
}

/** Writes a peers file listing `peers` at 127.0.0.1 (or at the given ports). */
export async function writePeers(
  path: string,
  peers: { id: string; port: number; memory?: number }[],
): Promise<void> {
  const entries = Object.fromEntries(peers.map((peer) => [peer.id, {
    address: `127.0.0.1:${peer.port}`,
    ...(peer.memory === undefined ? {} : {
      device_capabilities: {
        model: "placeholder",
        chip: "placeholder",
        memory: peer.memory,
        flops: { fp32: 0, fp16: 0, int8: 0 },
      },
    }),
  }]));
  await Deno.writeTextFile(path, JSON.stringify({ peers: entries }, null, 2));
}

/** Starts a node for an endpoint with its own peers file and state dir under `dir`. */
export function spawnNode(
  dir: string,
  endpoint: Endpoint,
  args: string[] = [],
  env: Record<string, string> = {},
): NodeProcess {
  return NodeProcess.spawn({
    id: endpoint.id,
    nodePort: endpoint.nodePort,
    apiPort: endpoint.apiPort,
    peersPath: `${dir}/${endpoint.id}_peers.json`,
    stateDir: `${dir}/state-${endpoint.id}`,
    args,
    env,
  });
}

/** The ids of the alive nodes in a node's topology, sorted. */
export async function aliveIds(node: NodeProcess): Promise<string[]> {
  const topology = await node.getJson<TopologySnapshot>("/v1/topology");
  return topology.nodes.filter((n) => n.alive).map((n) => n.id).sort();
}
