import assert from "node:assert/strict";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { webgpuTest } from "../_helpers/webgpu.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";
import { assertChat, expectation } from "./_chat_expectation.ts";
import { clientOf, eventually, startServingCluster } from "./_serving.ts";

/** The one decision a node kept under its state dir. */
function keptDecisionPath(dir: string, id: string): string {
  const files = [...Deno.readDirSync(`${dir}/state-${id}/engine-choices`)];
  assert.equal(files.length, 1, `${id} keeps one decision`);
  return `${dir}/state-${id}/engine-choices/${files[0].name}`;
}

Deno.test(webgpuTest(
  "2 nodes on auto keep their own choices: one restarts on its kept WebGPU choice beside a CPU node and both answer as the reference",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "exo-auto-" });
    let nodes: NodeProcess[] = [];
    try {
      const expected = await expectation(dir);
      const ids = ["gpu", "cpu"];
      ({ nodes } = await startServingCluster(dir, ids, expected.model.dir));
      await assertChat(clientOf(nodes[0]), expected);
      for (const node of nodes) {
        await eventually(
          () => Promise.resolve(node.logged("auto: cpu float32")),
          `${node.id} logs what auto measured`,
        );
      }
      await stopAll(nodes);
      nodes = [];

      // As on a machine where the GPU measured fastest: the gpu node's kept decision says so.
      const path = keptDecisionPath(dir, "gpu");
      const kept = JSON.parse(await Deno.readTextFile(path));
      kept.decision.provider = "webgpu";
      kept.decision.candidates = kept.decision.candidates.map((c: { provider: string }) =>
        c.provider === "webgpu"
          ? { ...c, decodeTokensPerSecond: 1e6, prefillTokensPerSecond: 1e6, out: null }
          : c
      );
      await Deno.writeTextFile(path, JSON.stringify(kept));

      ({ nodes } = await startServingCluster(dir, ids, expected.model.dir));
      for (const node of nodes) await assertChat(clientOf(node), expected);
      const topology = await nodes[1].getJson<TopologySnapshot>("/v1/topology");
      const engine = (id: string) => topology.nodes.find((n) => n.id === id)?.engine;
      assert.deepEqual(
        ids.map((id) => [engine(id)?.requested_provider, engine(id)?.active_provider]),
        [["auto", "webgpu"], ["auto", "cpu"]],
      );
      assert.ok(nodes[0].logged("→ webgpu (measured"), "the gpu node used its kept choice");
      assert.ok(nodes[1].logged("→ cpu (measured"), "the cpu node used its kept choice");
      for (const node of nodes) {
        assert.ok(!node.logged("[engine/probe]"), `${node.id} did not probe after the restart`);
      }
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
));
