import assert from "node:assert/strict";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { webgpuTest } from "../_helpers/webgpu.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";
import { assertChat, expectation } from "./_chat_expectation.ts";
import { clientOf, eventually, startServingCluster } from "./_serving.ts";

Deno.test(webgpuTest(
  "2-node splits with the GPU shard first or last (webgpu beside cpu) give the float64 reference's greedy text, as one cpu node does",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "exo-webgpu-" });
    let nodes: NodeProcess[] = [];
    try {
      const expected = await expectation(dir);
      // The split orders nodes of equal memory by id, descending: "gpu" holds the first
      // layers beside "cpu" and the last ones beside "x-cpu".
      for (const ids of [["solo"], ["gpu", "cpu"], ["x-cpu", "gpu"]]) {
        ({ nodes } = await startServingCluster(dir, ids, expected.model.dir, {
          nodeArgs: { gpu: ["--execution-provider", "webgpu"] },
        }));
        // Asking both nodes: the origin of a request is then once the GPU shard, once not.
        for (const node of nodes) await assertChat(clientOf(node), expected);
        if (ids.length === 2) {
          const topology = await nodes[1].getJson<TopologySnapshot>("/v1/topology");
          const engine = (id: string) => topology.nodes.find((n) => n.id === id)?.engine;
          assert.equal(engine("gpu")?.active_provider, "webgpu");
          assert.deepEqual(
            engine("gpu")?.placement.map((p) => p.provider),
            ["WebGpuExecutionProvider"],
            "every node of the GPU shard runs on WebGPU",
          );
          const cpu = ids.find((id) => id !== "gpu")!;
          assert.equal(engine(cpu)?.active_provider, "cpu");
          const shards = topology.partition?.shards.map((s) => s.node_id);
          assert.deepEqual(shards, [...ids].sort().reverse());
          await eventually(
            () => Promise.resolve(nodes[ids.indexOf("gpu")].logged("runs all")),
            "the GPU node logs where its shard runs",
          );
        }
        await stopAll(nodes);
        nodes = [];
      }
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
));
