import assert from "node:assert/strict";
import { join } from "node:path";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { aliveIds, endpoints, spawnNode, writePeers } from "./_cluster.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";
import { referenceGreedy, visibleText } from "./_model.ts";
import { clientOf, eventually, servingArgs } from "./_serving.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { ModelTokenizer } from "../../lib/inference/tokenizer/model_tokenizer.ts";
import { FakeHub } from "../model/_fake_hub.ts";
import { repoCacheFolder } from "../../lib/model/hub_cache.ts";

const REPO = "test-org/tiny-llama";
const MESSAGES = [{ role: "user" as const, content: "Tell me about the cluster" }];
const MAX_TOKENS = 8;

/** The safetensors files in a node's snapshot of the repo. */
async function weightFiles(hubCache: string, commit: string): Promise<string[]> {
  const names: string[] = [];
  const dir = join(repoCacheFolder(hubCache, REPO), "snapshots", commit);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".safetensors")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("Two nodes each download their own shard from the hub on first request, then serve a completion", async () => {
  const dir = await Deno.makeTempDir();
  const model = await writeRandomCheckpoint(join(dir, "repo"), {
    architecture: "llama",
    numLayers: 6,
    hiddenSize: 64,
    shards: 6,
    seed: 11,
  });
  const tokenizer = await ModelTokenizer.load(model.dir);
  const promptIds = tokenizer.encodeChat(MESSAGES);
  const reference = await referenceGreedy(model, promptIds, MAX_TOKENS);
  const hub = await FakeHub.start([{ id: REPO, dir: model.dir }]);
  const eps = endpoints("dl-a", "dl-b");
  const nodes: NodeProcess[] = [];
  try {
    for (const self of eps) {
      await writePeers(
        `${dir}/${self.id}_peers.json`,
        eps.filter((e) => e !== self).map((e) => ({ id: e.id, port: e.nodePort, memory: 1000 })),
      );
      nodes.push(spawnNode(
        dir,
        self,
        [...servingArgs(REPO, MAX_TOKENS), "--device-memory", "1000"],
        { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, `hub-${self.id}`) },
      ));
    }
    await Promise.all(nodes.map((node) => node.ready()));
    // The split is unknown until the config is downloaded: wait for the links instead.
    for (const node of nodes) {
      await eventually(async () => {
        const topology = await node.getJson<TopologySnapshot>("/v1/topology");
        return (await aliveIds(node)).length === 2 && topology.edges.length >= 2;
      }, `${node.id} sees both nodes linked`);
    }
    assert.equal(hub.downloads().length, 0, "nothing is fetched before the first request");

    const completion = await clientOf(nodes[0]).chat.completions.create({
      model: REPO,
      messages: MESSAGES,
      max_tokens: MAX_TOKENS,
      temperature: 0,
    });
    assert.equal(completion.choices[0].message.content, await visibleText(model, reference.ids));

    // Each node holds only its own half of the weight files; together they hold them all.
    const commit = hub.commit(REPO);
    const [a, b] = await Promise.all(eps.map((e) => weightFiles(join(dir, `hub-${e.id}`), commit)));
    assert.ok(a.length > 0 && b.length > 0);
    assert.ok(a.length < model.files.length && b.length < model.files.length, `${a} / ${b}`);
    assert.deepEqual([...new Set([...a, ...b])].sort(), [...model.files].sort());
    assert.equal(
      hub.downloads().filter((f) => f.endsWith(".safetensors")).length,
      a.length + b.length,
    );

    // The origin shows both nodes' finished downloads: its own and the peer's broadcast.
    await eventually(async () => {
      const progress = await nodes[0].getJson<{ data: { node_id: string; done: boolean }[] }>(
        "/v1/download/progress",
      );
      const done = new Set(progress.data.filter((p) => p.done).map((p) => p.node_id));
      return done.has("dl-a") && done.has("dl-b");
    }, "the origin shows both nodes' downloads as done");

    const models = await nodes[1].getJson<{ data: { id: string; available_locally: boolean }[] }>(
      "/v1/models",
    );
    assert.equal(models.data.find((m) => m.id === REPO)?.available_locally, true);

    // A second request is served from the cache without asking the hub anything.
    const requests = hub.log.length;
    const again = await clientOf(nodes[1]).chat.completions.create({
      model: REPO,
      messages: MESSAGES,
      max_tokens: MAX_TOKENS,
      temperature: 0,
    });
    assert.equal(again.choices[0].message.content, completion.choices[0].message.content);
    assert.equal(hub.log.length, requests);
  } finally {
    await stopAll(nodes);
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
