import OpenAI from "openai";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { type Endpoint, endpoints, spawnNode, writePeers } from "./_cluster.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";

/** Polls an async condition (each poll is a real HTTP round trip) until it holds. */
export async function eventually(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition().catch(() => false)) return performance.now() - started;
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
}

/** The node ids of the layer split a request on `node` gets now. */
export async function planIds(node: NodeProcess): Promise<string[]> {
  const topology = await node.getJson<TopologySnapshot>("/v1/topology");
  return (topology.partition?.shards ?? []).map((shard) => shard.node_id).sort();
}

/** Flags every serving test node gets: the test model, float32 weights, a token cap. */
export function servingArgs(modelDir: string, maxGenerateTokens = 64): string[] {
  return [
    "--default-model",
    modelDir,
    "--dtype",
    "float32",
    "--max-generate-tokens",
    String(maxGenerateTokens),
  ];
}

/**
 * Starts one node process per id, all peers of each other on loopback with equal memory,
 * and waits until every node plans requests over all of them. Stops them all on failure.
 */
export async function startServingCluster(
  dir: string,
  ids: string[],
  modelDir: string,
  options: {
    maxGenerateTokens?: number;
    /** Flags for every node. */
    args?: string[];
    /** Flags for one node, by id, after those for every node. */
    nodeArgs?: Record<string, string[]>;
  } = {},
): Promise<{ nodes: NodeProcess[]; endpoints: Endpoint[] }> {
  const eps = endpoints(...ids);
  const nodes: NodeProcess[] = [];
  try {
    for (const self of eps) {
      await writePeers(
        `${dir}/${self.id}_peers.json`,
        eps.filter((e) => e !== self).map((e) => ({ id: e.id, port: e.nodePort, memory: 1000 })),
      );
      nodes.push(spawnNode(dir, self, [
        ...servingArgs(modelDir, options.maxGenerateTokens),
        "--device-memory",
        "1000",
        ...options.args ?? [],
        ...options.nodeArgs?.[self.id] ?? [],
      ]));
    }
    await Promise.all(nodes.map((node) => node.ready()));
    for (const node of nodes) {
      await eventually(
        async () => (await planIds(node)).length === ids.length,
        `${node.id} plans over all ${ids.length} nodes`,
      );
    }
    return { nodes, endpoints: eps };
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
}

/** The official OpenAI client pointed at a node's API. */
export function clientOf(node: NodeProcess): OpenAI {
  return new OpenAI({ baseURL: `${node.url}/v1`, apiKey: "not-needed", maxRetries: 0 });
}

/** The ids of the requests a node still holds state for (origin or shard). */
export async function heldRequests(node: NodeProcess): Promise<string[]> {
  const held = await node.getJson<{ origin: string[]; shards: { request_id: string }[] }>(
    "/v1/diagnostics/requests",
  );
  return [...held.origin, ...held.shards.map((s) => s.request_id)];
}
