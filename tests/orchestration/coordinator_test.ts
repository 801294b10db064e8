import assert from "node:assert/strict";
import { join } from "node:path";
import { Coordinator, type CoordinatorOptions } from "../../lib/orchestration/coordinator.ts";
import {
  ClusterUnavailableError,
  type CompletionJob,
  type CompletionStream,
  ModelNotFoundError,
  RequestFailedError,
} from "../../lib/orchestration/mod.ts";
import { parseRequestMeta } from "../../lib/orchestration/request_meta.ts";
import { ContextLengthError } from "../../lib/inference/engine.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import type { Message, PromptMessage } from "../../lib/protocol/messages.ts";
import type { ClusterView } from "../../lib/topology/topology.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";
import { writeRandomCheckpoint, type WrittenCheckpoint } from "../fixtures/make_checkpoint.ts";

const GREEDY = { temperature: 0, topP: 1, topK: 0 };

let checkpoint: Promise<WrittenCheckpoint> | undefined;
function model(): Promise<WrittenCheckpoint> {
  checkpoint ??= Deno.makeTempDir({ prefix: "exo-coord-" }).then((dir) =>
    writeRandomCheckpoint(join(dir, "model"), { architecture: "llama", numLayers: 2 })
  );
  return checkpoint;
}

const TWO_NODES: ClusterView = {
  selfId: "a",
  nodes: [
    { nodeId: "a", capabilities: { ...UNKNOWN_CAPABILITIES, memory: 1000 }, hops: 0, alive: true },
    { nodeId: "b", capabilities: { ...UNKNOWN_CAPABILITIES, memory: 1000 }, hops: 1, alive: true },
  ],
  edges: [{ from: "a", to: "b" }],
};

function harness(overrides: Partial<CoordinatorOptions> = {}) {
  const sent: { to: string; message: Message }[] = [];
  const coordinator = new Coordinator({
    selfId: "a",
    resolver: new ModelResolver({ hubCache: "/nonexistent-hub" }),
    view: () => TWO_NODES,
    waitForPeers: () => Promise.resolve(),
    send: (to, message) => {
      sent.push({ to, message });
      return Promise.resolve();
    },
    logger: silentLogger,
    maxGenerateTokens: 100,
    responseTimeoutMs: 60_000,
    waitForPeerCount: 0,
    ...overrides,
  });
  return { coordinator, sent };
}

async function job(overrides: Partial<CompletionJob> = {}): Promise<CompletionJob> {
  return {
    model: (await model()).dir,
    input: { prompt: "Hello" },
    sampling: GREEDY,
    stop: [],
    ...overrides,
  };
}

async function drain(stream: CompletionStream) {
  let text = "";
  while (true) {
    const next = await stream.deltas.next();
    if (next.done) return { text, ...next.value };
    text += next.value;
  }
}

function bytes(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

function promptOf(sent: { message: Message }[]): PromptMessage {
  return sent.find(({ message }) => message.type === "prompt")!.message as PromptMessage;
}

function cancels(sent: { to: string; message: Message }[]): string[] {
  return sent.filter(({ message }) => message.type === "cancel").map(({ to }) => to).sort();
}

Deno.test("Coordinator plans the request, sends the prompt to every node and streams the tokens as text", async () => {
  const { coordinator, sent } = harness();
  const stream = await coordinator.complete(
    await job({ maxTokens: 5 }),
    new AbortController().signal,
  );
  const prompts = sent.filter(({ message }) => message.type === "prompt");
  assert.deepEqual(prompts.map(({ to }) => to).sort(), ["a", "b"]);
  const meta = parseRequestMeta(promptOf(sent).meta);
  assert.equal(meta.origin, "a");
  assert.equal(meta.maxTokens, 5);
  assert.equal(meta.shards.length, 2);
  const first = prompts.find(({ to }) => to === meta.shards[0].nodeId)!.message as PromptMessage;
  const other = prompts.find(({ to }) => to !== meta.shards[0].nodeId)!.message as PromptMessage;
  assert.equal(first.tokens.length, stream.promptTokens);
  assert.deepEqual(other.tokens, []);

  const requestId = first.requestId;
  assert.deepEqual(coordinator.activeRequests(), [requestId]);
  const [h, i] = bytes("Hi");
  coordinator.onToken({ type: "token", requestId, step: 0, tokens: [h], finishReason: "" });
  coordinator.onToken({ type: "token", requestId, step: 1, tokens: [i], finishReason: "length" });
  const result = await drain(stream);
  assert.deepEqual(result, { text: "Hi", finishReason: "length", completionTokens: 2 });
  assert.deepEqual(cancels(sent), ["a", "b"]);
  assert.deepEqual(coordinator.activeRequests(), []);
});

Deno.test("Coordinator ends at an EOS token and at a stop string, leaving both out of the text", async () => {
  const { specialTokenIds } = await model();
  const { coordinator, sent } = harness();
  const eos = await coordinator.complete(await job(), new AbortController().signal);
  const eosId = promptOf(sent).requestId;
  for (const token of [...bytes("ok"), specialTokenIds.eot]) {
    coordinator.onToken({
      type: "token",
      requestId: eosId,
      step: 0,
      tokens: [token],
      finishReason: "",
    });
  }
  assert.deepEqual(await drain(eos), { text: "ok", finishReason: "stop", completionTokens: 3 });

  sent.length = 0;
  const stopped = await coordinator.complete(
    await job({ stop: ["lo"] }),
    new AbortController().signal,
  );
  const stopId = promptOf(sent).requestId;
  for (const token of bytes("hello world")) {
    coordinator.onToken({
      type: "token",
      requestId: stopId,
      step: 0,
      tokens: [token],
      finishReason: "",
    });
  }
  assert.deepEqual(await drain(stopped), {
    text: "hel",
    finishReason: "stop",
    completionTokens: 5,
  });
  assert.deepEqual(cancels(sent), ["a", "b"]);
});

Deno.test("Coordinator fails the stream when a node reports an error, leaves, or the time runs out", async (t) => {
  await t.step("an error from a node", async () => {
    const { coordinator, sent } = harness();
    const stream = await coordinator.complete(await job(), new AbortController().signal);
    coordinator.onError(
      { type: "error", requestId: promptOf(sent).requestId, message: "boom" },
      "b",
    );
    await assert.rejects(drain(stream), (error: Error) => {
      assert.ok(error instanceof RequestFailedError);
      assert.equal(error.message, "Node b failed: boom");
      return true;
    });
    assert.deepEqual(cancels(sent), ["a", "b"]);
  });
  await t.step("a node of the plan leaves", async () => {
    const { coordinator, sent } = harness();
    const stream = await coordinator.complete(await job(), new AbortController().signal);
    coordinator.onPeerDown("c");
    coordinator.onPeerDown("b");
    await assert.rejects(drain(stream), /Node b left the cluster during the request/);
    assert.deepEqual(cancels(sent), ["a", "b"]);
  });
  await t.step("the response timeout", async () => {
    const { coordinator } = harness({ responseTimeoutMs: 30 });
    const stream = await coordinator.complete(await job(), new AbortController().signal);
    await assert.rejects(drain(stream), /timed out after 0.03 s/);
  });
  await t.step("the node stops", async () => {
    const { coordinator } = harness();
    const stream = await coordinator.complete(await job(), new AbortController().signal);
    coordinator.close();
    await assert.rejects(drain(stream), /shutting down/);
  });
});

Deno.test("Coordinator cancels on every node when the client goes away, even before reading", async () => {
  const { coordinator, sent } = harness();
  const controller = new AbortController();
  const stream = await coordinator.complete(await job(), controller.signal);
  controller.abort();
  await assert.rejects(drain(stream), /The client cancelled the request/);
  assert.deepEqual(cancels(sent), ["a", "b"]);

  sent.length = 0;
  const unread = await coordinator.complete(await job(), new AbortController().signal);
  await unread.deltas.return(undefined as never);
  assert.deepEqual(cancels(sent), ["a", "b"]);
  assert.deepEqual(coordinator.activeRequests(), []);
});

Deno.test("Coordinator refuses what it cannot serve before starting anything", async (t) => {
  await t.step("an unknown model, with suggestions", async () => {
    const { coordinator, sent } = harness();
    await assert.rejects(
      coordinator.complete(await job({ model: "llama-3.2-1bb" }), new AbortController().signal),
      (error: Error) => {
        assert.ok(error instanceof ModelNotFoundError);
        assert.match(error.message, /did you mean llama-3\.2-1b/);
        return true;
      },
    );
    assert.deepEqual(sent, []);
  });
  await t.step("no model and no default model", async () => {
    const { coordinator } = harness();
    await assert.rejects(
      coordinator.encode(undefined, { prompt: "x" }),
      /no model was named and the node has no --default-model/,
    );
  });
  await t.step("a prompt over the context", async () => {
    const { coordinator } = harness({ maxContext: 3 });
    await assert.rejects(
      coordinator.complete(
        await job({ input: { promptTokens: [1, 2, 3, 4] } }),
        new AbortController().signal,
      ),
      (error: Error) => error instanceof ContextLengthError && error.length === 4,
    );
  });
  await t.step("a token id outside the vocabulary", async () => {
    const { coordinator } = harness();
    await assert.rejects(
      coordinator.complete(
        await job({ input: { promptTokens: [1, 99999] } }),
        new AbortController().signal,
      ),
      /prompt token 1 is 99999, outside the vocabulary/,
    );
  });
  await t.step("peers that never come", async () => {
    const { coordinator } = harness({
      waitForPeerCount: 2,
      responseTimeoutMs: 30,
      waitForPeers: (_count, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("1 of 2 peers connected")))
        ),
    });
    await assert.rejects(
      coordinator.complete(await job(), new AbortController().signal),
      (error: Error) => {
        assert.ok(error instanceof ClusterUnavailableError);
        assert.match(
          error.message,
          /Waited 0.03 s for 2 peers \(--wait-for-peers\): 1 of 2 peers connected/,
        );
        return true;
      },
    );
  });
  await t.step("a node of the plan that cannot be reached", async () => {
    const { coordinator } = harness({
      send: (to) => to === "b" ? Promise.reject(new Error("not connected")) : Promise.resolve(),
    });
    await assert.rejects(
      coordinator.complete(await job(), new AbortController().signal),
      /Cannot start the request on node b: not connected/,
    );
    assert.deepEqual(coordinator.activeRequests(), []);
  });
});

Deno.test("Coordinator caps max tokens at --max-generate-tokens and encodes prompts", async () => {
  const { coordinator, sent } = harness({ maxGenerateTokens: 7 });
  const stream = await coordinator.complete(
    await job({ maxTokens: 1_000_000 }),
    new AbortController().signal,
  );
  assert.equal(parseRequestMeta(promptOf(sent).meta).maxTokens, 7);
  await stream.deltas.return(undefined as never);

  const encoded = await coordinator.encode((await model()).dir, {
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.match(encoded.prompt, /Hi/);
  assert.ok(encoded.tokens.length > 2);
});

Deno.test("Coordinator marks the default model among the models, adding it when unlisted", async (t) => {
  const root = await Deno.makeTempDir();
  try {
    const hub = join(root, "hub");
    const snapshot = join(hub, "models--unsloth--Llama-3.2-1B-Instruct", "snapshots", "abc");
    await Deno.mkdir(snapshot, { recursive: true });
    await Deno.writeTextFile(join(snapshot, "config.json"), "{}");
    const resolver = new ModelResolver({ hubCache: hub });
    const entries = async (defaultModel: string | undefined) =>
      await harness({ resolver, defaultModel }).coordinator.models();
    const marked = (list: { id: string; isDefault: boolean }[]) =>
      list.filter((m) => m.isDefault).map((m) => m.id);

    await t.step("a registry repo name marks its registry entry", async () => {
      const list = await entries("unsloth/Llama-3.2-1B-Instruct");
      assert.deepEqual(marked(list), ["llama-3.2-1b"]);
      const llama = list.find((m) => m.id === "llama-3.2-1b")!;
      assert.deepEqual([llama.availableLocally, llama.localBytes], [true, 2]);
      assert.equal(list.filter((m) => m.id === "llama-3.2-1b").length, 1);
    });
    await t.step("a local directory is added, marked, with no bytes to free", async () => {
      const dir = (await model()).dir;
      const list = await entries(dir);
      assert.deepEqual(marked(list), [dir]);
      assert.deepEqual(list.at(-1), {
        id: dir,
        name: "model",
        availableLocally: true,
        localBytes: null,
        isDefault: true,
      });
    });
    await t.step("a hub repo not downloaded is added as not available", async () => {
      const list = await entries("someone/elsewhere");
      assert.deepEqual(list.at(-1), {
        id: "someone/elsewhere",
        name: "someone/elsewhere",
        availableLocally: false,
        localBytes: null,
        isDefault: true,
      });
    });
    await t.step("no default or an unknown one marks nothing", async () => {
      assert.deepEqual(marked(await entries(undefined)), []);
      assert.deepEqual(marked(await entries("not a model")), []);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
