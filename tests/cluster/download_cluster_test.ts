import { pathExists } from "../../lib/fs/staged_dir.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { aliveIds, type Endpoint, endpoints, spawnNode, writePeers } from "./_cluster.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";
import { referenceGreedy, visibleText } from "./_model.ts";
import { clientOf, eventually, planIds, servingArgs } from "./_serving.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { ModelTokenizer } from "../../lib/inference/tokenizer/model_tokenizer.ts";
import { FakeHub } from "../model/_fake_hub.ts";
import { repoCacheFolder } from "../../lib/model/hub_cache.ts";
import { parseSafetensorsIndex } from "../../lib/model/safetensors_index.ts";
import { shardWeightFiles } from "../../lib/model/shard_files.ts";

const REPO = "test-org/tiny-llama";
const MESSAGES = [{ role: "user" as const, content: "Tell me about the cluster" }];
const MAX_TOKENS = 8;

/**
 * Starts one node per endpoint, peers of each other, each with its own hub cache
 * (`<dir>/hub-<id>`) and the fake hub as `HF_ENDPOINT`; waits until they are linked.
 */
async function startNodes(
  dir: string,
  hub: FakeHub,
  eps: Endpoint[],
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<NodeProcess[]> {
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
        [...servingArgs(REPO, MAX_TOKENS), "--device-memory", "1000", ...args],
        {
          HF_ENDPOINT: hub.endpoint,
          HF_HUB_OFFLINE: "0",
          HF_HUB_CACHE: join(dir, `hub-${self.id}`),
          ...env,
        },
      ));
    }
    await Promise.all(nodes.map((node) => node.ready()));
    // The split is unknown until the config is downloaded: wait for the links instead.
    for (const node of nodes) {
      await eventually(async () => {
        const topology = await node.getJson<TopologySnapshot>("/v1/topology");
        return (await aliveIds(node)).length === eps.length &&
          topology.edges.length >= 2 * (eps.length - 1);
      }, `${node.id} sees every node linked`);
    }
    return nodes;
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
}

/** A node's download as `GET /v1/download/progress` shows it. */
interface Progress {
  node_id: string;
  status: "downloading" | "done" | "failed";
  done: boolean;
  error: string | null;
  files: { file: string }[];
}

/** A model as `GET /v1/models` lists it. */
interface ListedModel {
  id: string;
  available_locally: boolean;
  local_bytes: number | null;
  is_default: boolean;
}

/** The safetensors files in a node's snapshot of the repo. */
async function weightFiles(hubCache: string, commit: string): Promise<string[]> {
  const names: string[] = [];
  const dir = join(repoCacheFolder(hubCache, REPO), "snapshots", commit);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".safetensors")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("Two nodes each download their own shard on first request, serve a completion, and restart without the hub", async () => {
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
    nodes.push(...await startNodes(dir, hub, eps));
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

    // A second start finds everything in the caches: the split is known at once and a
    // completion is served without a single request to the hub.
    await stopAll(nodes.splice(0));
    nodes.push(...await startNodes(dir, hub, endpoints("dl-a", "dl-b")));
    for (const node of nodes) {
      await eventually(async () => (await planIds(node)).length === 2, `${node.id} plans`);
    }
    const restarted = await clientOf(nodes[0]).chat.completions.create({
      model: REPO,
      messages: MESSAGES,
      max_tokens: MAX_TOKENS,
      temperature: 0,
    });
    assert.equal(restarted.choices[0].message.content, completion.choices[0].message.content);
    assert.equal(hub.log.length, requests);
  } finally {
    await stopAll(nodes);
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /download on one node downloads every node's share; DELETE /models/{id} frees what /v1/models showed", async () => {
  const dir = await Deno.makeTempDir();
  const model = await writeRandomCheckpoint(join(dir, "repo"), {
    architecture: "llama",
    numLayers: 6,
    hiddenSize: 64,
    shards: 6,
    seed: 11,
  });
  const hub = await FakeHub.start([{ id: REPO, dir: model.dir }]);
  const nodes: NodeProcess[] = [];
  const topologyOf = (node: NodeProcess) =>
    node.getJson<TopologySnapshot>(`/v1/topology?model=${encodeURIComponent(REPO)}`);
  const download = async () => {
    const response = await fetch(`${nodes[0].url}/download`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: REPO }),
    });
    assert.equal(response.status, 202);
    return await response.json();
  };
  const progress = async () =>
    (await nodes[0].getJson<{ data: Progress[] }>("/v1/download/progress")).data;
  const weightsDone = (p: Progress) =>
    p.done && p.error === null && p.files.some((f) => f.file.endsWith(".safetensors"));
  try {
    nodes.push(...await startNodes(dir, hub, endpoints("pf-a", "pf-b")));
    // No config anywhere yet: the split of the model is not known, which is no error.
    assert.equal((await topologyOf(nodes[0])).partition, null);

    const plan = await download();
    assert.equal(plan.model, REPO);
    assert.equal(plan.status, "downloading");
    assert.deepEqual(plan.shards.map((s: { node_id: string }) => s.node_id).sort(), [
      "pf-a",
      "pf-b",
    ]);
    const share = (id: string) => plan.shards.find((s: { node_id: string }) => s.node_id === id);
    assert.deepEqual(share("pf-a"), {
      node_id: "pf-a",
      start_layer: plan.start_layer,
      end_layer: plan.end_layer,
    });
    assert.equal(plan.end_layer - plan.start_layer + 1, 3, "half of the 6 layers");

    // The origin shows both nodes' weight downloads done: its own and the one it asked of B.
    await eventually(async () => {
      const done = new Set((await progress()).filter(weightsDone).map((p) => p.node_id));
      return done.has("pf-a") && done.has("pf-b");
    }, "both nodes' weights are downloaded");
    const index = JSON.parse(
      await Deno.readTextFile(join(model.dir, "model.safetensors.index.json")),
    );
    const filesOf = (id: string) =>
      shardWeightFiles(
        model.config,
        { startLayer: share(id).start_layer, endLayer: share(id).end_layer },
        parseSafetensorsIndex(index, "index"),
      ).sort();
    const commit = hub.commit(REPO);
    for (const id of ["pf-a", "pf-b"]) {
      assert.deepEqual(await weightFiles(join(dir, `hub-${id}`), commit), filesOf(id), id);
    }

    // Every node now knows the split of the model from its cached config: the plan's.
    for (const node of nodes) {
      await eventually(async () => {
        const partition = (await topologyOf(node)).partition;
        return partition !== null &&
          JSON.stringify(partition) ===
            JSON.stringify({ model: REPO, num_layers: 6, shards: plan.shards });
      }, `${node.id} shows the plan as the partition of ${REPO}`);
    }

    const models = await nodes[0].getJson<{ data: ListedModel[] }>("/v1/models");
    const listed = models.data.find((m) => m.id === REPO);
    assert.equal(listed?.available_locally, true);
    assert.equal(listed?.is_default, true, "it is the nodes' --default-model");
    assert.ok(typeof listed?.local_bytes === "number" && listed.local_bytes > 0);
    assert.equal(models.data.filter((m) => m.is_default).length, 1);

    const deleted = await fetch(`${nodes[0].url}/models/${REPO}`, { method: "DELETE" });
    assert.deepEqual(await deleted.json(), {
      id: REPO,
      object: "model",
      deleted: true,
      freed_bytes: listed.local_bytes,
    });
    assert.equal(await pathExists(repoCacheFolder(join(dir, "hub-pf-a"), REPO)), false);
    assert.equal(await pathExists(repoCacheFolder(join(dir, "hub-pf-b"), REPO)), true);
    const again = await fetch(`${nodes[0].url}/models/${REPO}`, { method: "DELETE" });
    assert.equal(again.status, 404);
    await again.body?.cancel();
    const afterA = await nodes[0].getJson<{ data: ListedModel[] }>("/v1/models");
    assert.equal(afterA.data.find((m) => m.id === REPO)?.local_bytes ?? null, null);

    // A peer whose share fails shows on the origin as that peer's download with an error.
    const removedB = await fetch(`${nodes[1].url}/v1/models/${REPO}`, { method: "DELETE" });
    assert.ok((await removedB.json()).freed_bytes > 0);
    const onlyB = filesOf("pf-b").filter((file) => !filesOf("pf-a").includes(file));
    assert.ok(onlyB.length > 0, "B's share has a file of its own");
    hub.failOnce(onlyB[0], 404);
    const retried = await download();
    assert.deepEqual(retried.shards, plan.shards);
    await eventually(async () => {
      const all = await progress();
      return all.some((p) =>
        p.node_id === "pf-b" && p.status === "failed" && !p.done && p.error !== null
      ) &&
        all.some((p) => p.node_id === "pf-a" && weightsDone(p));
    }, "the origin shows B's failed download and its own done one");
  } finally {
    await stopAll(nodes);
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A node started offline (HF_HUB_OFFLINE=1) asks the hub nothing and says what is missing", async () => {
  const dir = await Deno.makeTempDir();
  const model = await writeRandomCheckpoint(join(dir, "repo"), { architecture: "llama", seed: 2 });
  const hub = await FakeHub.start([{ id: REPO, dir: model.dir }]);
  const nodes: NodeProcess[] = [];
  try {
    nodes.push(...await startNodes(dir, hub, endpoints("off-a"), [], { HF_HUB_OFFLINE: "1" }));
    const response = await fetch(`${nodes[0].url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: REPO, messages: MESSAGES, max_tokens: 2 }),
    });
    assert.equal(response.status, 404);
    const { error } = await response.json();
    assert.equal(error.code, "model_not_found");
    assert.match(
      error.message,
      /not downloaded on this node and --offline is set; looked in .*models--test-org--tiny-llama/,
    );
    assert.equal(hub.log.length, 0);
  } finally {
    await stopAll(nodes);
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
