import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { TcpForwarder } from "../_helpers/tcp_forwarder.ts";
import { freePort } from "../_helpers/free_port.ts";
import { aliveIds, endpoints, spawnNode, writePeers } from "./_cluster.ts";
import { eventually } from "./_serving.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";

Deno.test({
  name: "Three node processes on loopback find each other and agree on the layer split",
  async fn() {
    const dir = await Deno.makeTempDir();
    const [a, b, c] = endpoints("node-a", "node-b", "node-c");
    const memory = { "node-a": 16000, "node-b": 8000, "node-c": 8000 } as Record<string, number>;
    const nodes: NodeProcess[] = [];
    try {
      for (const self of [a, b, c]) {
        const others = [a, b, c].filter((e) => e !== self);
        await writePeers(
          `${dir}/${self.id}_peers.json`,
          others.map((e) => ({ id: e.id, port: e.nodePort })),
        );
        nodes.push(spawnNode(dir, self, [
          "--device-memory",
          String(memory[self.id]),
          "--default-model",
          "llama-3.2-1b",
        ]));
      }
      await Promise.all(nodes.map((n) => n.ready()));
      for (const node of nodes) {
        await eventually(
          async () => (await aliveIds(node)).length === 3,
          `${node.id} sees all three nodes`,
        );
        // The split takes a peer once the reports show it linked to the others too.
        await eventually(
          async () =>
            (await node.getJson<TopologySnapshot>("/v1/topology")).partition?.shards.length === 3,
          `${node.id} splits the model over all three nodes`,
        );
      }
      const splits = await Promise.all(
        nodes.map(async (n) => (await n.getJson<TopologySnapshot>("/v1/topology")).partition),
      );
      for (const split of splits) deepStrictEqual(split, splits[0]);
      deepStrictEqual(splits[0], {
        model: "llama-3.2-1b",
        num_layers: 16,
        shards: [
          { node_id: "node-a", start_layer: 0, end_layer: 7 },
          { node_id: "node-c", start_layer: 8, end_layer: 11 },
          { node_id: "node-b", start_layer: 12, end_layer: 15 },
        ],
      });
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Two-Mac setup: a node reachable only through a tunnel still exchanges tensors both ways",
  async fn() {
    const dir = await Deno.makeTempDir();
    const [mac1, mac2] = endpoints("mac1", "mac2");
    // mac1 reaches mac2 only through the forwarder (ssh -L); mac2's file names an address
    // for mac1 where nothing listens, so mac2 can never dial mac1.
    const tunnel = new TcpForwarder(mac2.nodePort);
    const nodes: NodeProcess[] = [];
    try {
      await writePeers(`${dir}/mac1_peers.json`, [{ id: "mac2", port: tunnel.port }]);
      await writePeers(`${dir}/mac2_peers.json`, [{ id: "mac1", port: freePort() }]);
      nodes.push(spawnNode(dir, mac1), spawnNode(dir, mac2));
      await Promise.all(nodes.map((n) => n.ready()));
      const [node1, node2] = nodes;
      await eventually(
        async () =>
          (await aliveIds(node1)).join() === "mac1,mac2" &&
          (await aliveIds(node2)).join() === "mac1,mac2",
        "both macs see each other",
      );
      // Each echo crosses the tunnel in both directions; start one from each side.
      for (const [from, to] of [[node1, "mac2"], [node2, "mac1"]] as const) {
        const { status, body } = await from.postJson("/v1/diagnostics/tensor-echo", {
          peer: to,
          shape: [1, 4, 2048],
        });
        equal(status, 200, JSON.stringify(body));
        equal((body as { bytes: number }).bytes, 4 * 2048 * 4);
      }
      ok(node2.logged("Peer mac1 connected (accepted"));
    } finally {
      await stopAll(nodes);
      await tunnel.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Peers join by a live peers-file edit, leave within 10 s when killed and return on restart",
  async fn() {
    const dir = await Deno.makeTempDir();
    const [a, b] = endpoints("a", "b");
    let nodeB: NodeProcess | undefined;
    let nodeA: NodeProcess | undefined;
    try {
      await writePeers(`${dir}/a_peers.json`, []);
      await writePeers(`${dir}/b_peers.json`, []);
      nodeA = spawnNode(dir, a);
      nodeB = spawnNode(dir, b);
      await Promise.all([nodeA.ready(), nodeB.ready()]);
      deepStrictEqual(await aliveIds(nodeA), ["a"]);

      await writePeers(`${dir}/a_peers.json`, [{ id: "b", port: b.nodePort }]);
      const joinMs = await eventually(
        async () => (await aliveIds(nodeA!)).join() === "a,b",
        "a picks up b from the edited file",
        10_000,
      );
      ok(joinMs < 10_000);
      deepStrictEqual(await aliveIds(nodeB), ["a", "b"]);

      await nodeB.kill("SIGKILL");
      const leaveMs = await eventually(
        async () => (await aliveIds(nodeA!)).join() === "a",
        "a notices b is gone",
        10_000,
      );
      ok(leaveMs < 10_000, `b left after ${leaveMs} ms`);

      nodeB = spawnNode(dir, b);
      await nodeB.ready();
      await eventually(
        async () => (await aliveIds(nodeA!)).join() === "a,b",
        "b is back in a's view",
        10_000,
      );
    } finally {
      await stopAll([nodeA, nodeB]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "A node with a wrong cluster secret is refused and never joins",
  async fn() {
    const dir = await Deno.makeTempDir();
    const [a, b, intruder] = endpoints("a", "b", "intruder");
    const nodes: NodeProcess[] = [];
    try {
      await writePeers(`${dir}/a_peers.json`, [{ id: "b", port: b.nodePort }]);
      await writePeers(`${dir}/b_peers.json`, [{ id: "a", port: a.nodePort }]);
      await writePeers(`${dir}/intruder_peers.json`, [{ id: "a", port: a.nodePort }]);
      nodes.push(
        spawnNode(dir, a, [], { EXO_CLUSTER_SECRET: "correct horse" }),
        spawnNode(dir, b, ["--cluster-secret", "correct horse"]),
        spawnNode(dir, intruder, ["--cluster-secret", "battery staple"]),
      );
      await Promise.all(nodes.map((n) => n.ready()));
      const [nodeA, , nodeIntruder] = nodes;
      await eventually(
        async () =>
          (await aliveIds(nodeA)).join() === "a,b" &&
          nodeA.logged("node intruder failed the cluster secret proof"),
        "a connects to b and refuses the intruder",
      );
      deepStrictEqual(await aliveIds(nodeIntruder), ["intruder"]);
      deepStrictEqual(await aliveIds(nodeA), ["a", "b"]);
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
