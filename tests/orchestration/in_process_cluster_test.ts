import assert from "node:assert/strict";
import { join } from "node:path";
import { ExoNode } from "../../lib/node/exo_node.ts";
import { Logger } from "../../lib/log/logger.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { OnnxEngine } from "../../lib/inference/engine.ts";
import { generate } from "../../lib/inference/generate.ts";
import { ModelTokenizer } from "../../lib/inference/tokenizer/model_tokenizer.ts";
import type { CompletionJob, CompletionStream } from "../../lib/orchestration/mod.ts";
import { RequestFailedError } from "../../lib/orchestration/mod.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";
import { planRequest } from "../../lib/orchestration/plan_request.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { freePort } from "../_helpers/free_port.ts";
import { waitUntil } from "../_helpers/wait_until.ts";

const GREEDY = { temperature: 0, topP: 1, topK: 0 };
const LOG_LEVEL = Deno.env.get("EXO_TEST_LOG") === "1" ? "debug" : "error";

interface Member {
  node: ExoNode;
  engine: OnnxEngine;
}

/** Starts `ids.length` nodes in this process, all peers of each other over loopback TCP. */
async function startCluster(dir: string, ids: string[]): Promise<Member[]> {
  const ports = ids.map(() => freePort());
  const members: Member[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      const peers = Object.fromEntries(
        ids.flatMap((other, j) =>
          other === id ? [] : [[other, { address: `127.0.0.1:${ports[j]}` }]]
        ),
      );
      const peersPath = join(dir, `${id}_peers.json`);
      await Deno.writeTextFile(peersPath, JSON.stringify({ peers }));
      const engine = new OnnxEngine({ cacheDir: join(dir, `shards-${id}`), threads: 1 });
      const logger = new Logger(LOG_LEVEL).child(id);
      const node = await ExoNode.start({
        selfId: id,
        capabilities: { ...UNKNOWN_CAPABILITIES, memory: 1000 },
        nodeHost: "127.0.0.1",
        nodePort: ports[i],
        peersPath,
        defaultModel: null,
        logger,
        serving: {
          engine,
          resolver: new ModelResolver({ hubCache: join(dir, "hub") }),
          dtype: "float32",
          executionProvider: "cpu",
          maxGenerateTokens: 64,
          responseTimeoutMs: 60_000,
          waitForPeers: 0,
        },
      });
      members.push({ node, engine });
    }
    await waitUntil(
      () => members.every(({ node }) => planRequest(node.view(), 4).length === ids.length),
      "every node to plan over the whole cluster",
    );
    return members;
  } catch (error) {
    await stopCluster(members);
    throw error;
  }
}

async function stopCluster(members: Member[]): Promise<void> {
  for (const { node, engine } of members) {
    await node.stop();
    await engine.dispose();
  }
}

async function collect(stream: CompletionStream): Promise<{ text: string; reason: string }> {
  let text = "";
  while (true) {
    const next = await stream.deltas.next();
    if (next.done) return { text, reason: next.value.finishReason };
    text += next.value;
  }
}

function job(model: string, promptTokens: number[], maxTokens: number): CompletionJob {
  return { model, input: { promptTokens }, maxTokens, sampling: GREEDY, stop: [] };
}

Deno.test("A request runs across three in-process nodes and matches one engine holding every layer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exo-orch-" });
  const model = await writeRandomCheckpoint(join(dir, "model"), {
    architecture: "llama",
    numLayers: 4,
    seed: 7,
  });
  const prompt = [1, 40, 41, 42, 43, 44];
  const single = new OnnxEngine({ cacheDir: join(dir, "single") });
  let expected = "";
  try {
    await single.loadShard({
      modelDir: model.dir,
      startLayer: 0,
      endLayer: 3,
      dtype: "float32",
      executionProvider: "cpu",
    });
    const tokenizer = await ModelTokenizer.load(model.dir);
    const run = generate({
      engine: single,
      tokenizer,
      input: { prompt: tokenizer.decode(prompt) },
      maxTokens: 12,
    });
    for (let next = await run.next(); !next.done; next = await run.next()) expected += next.value;
  } finally {
    await single.dispose();
  }

  assert.ok(expected.length > 0, "the random model should say something in 12 tokens");
  const members = await startCluster(dir, ["a", "b", "c"]);
  try {
    for (const origin of members) {
      const stream = await origin.node.completions.complete(
        job(model.dir, prompt, 12),
        new AbortController().signal,
      );
      const { text } = await collect(stream);
      assert.equal(text, expected);
    }
    // Every node freed the requests.
    await waitUntil(
      () => members.every(({ node }) => node.requests().shards.length === 0),
      "every node to free its requests",
    );
    // Four at once, which the shards batch.
    const streams = await Promise.all(
      [0, 1, 2, 3].map(() =>
        members[0].node.completions.complete(
          job(model.dir, prompt, 12),
          new AbortController().signal,
        )
      ),
    );
    const texts = await Promise.all(streams.map(collect));
    for (const { text } of texts) assert.equal(text, expected);

    // Aborting mid-way ends the request everywhere.
    const controller = new AbortController();
    const stream = await members[1].node.completions.complete(
      job(model.dir, prompt, 60),
      controller.signal,
    );
    await stream.deltas.next();
    controller.abort();
    await assert.rejects(collect(stream), RequestFailedError);
    await waitUntil(
      () => members.every(({ node }) => node.requests().shards.length === 0),
      "every node to free the cancelled request",
    );
  } finally {
    await stopCluster(members);
    await Deno.remove(dir, { recursive: true });
  }
});
