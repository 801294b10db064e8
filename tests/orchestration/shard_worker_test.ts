import assert from "node:assert/strict";
import { ShardWorker } from "../../lib/orchestration/shard_worker.ts";
import { encodeRequestMeta, type RequestMeta } from "../../lib/orchestration/request_meta.ts";
import type { Message, TensorMessage } from "../../lib/protocol/messages.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { FakeEngine, HIDDEN } from "./_fake_engine.ts";

interface Sent {
  to: string;
  message: Message;
}

/** A compute turn that "another node" can hold: runs wait while it is held. */
class GateTurn {
  #gate: PromiseWithResolvers<void> | null = null;
  /** Resolves when a run asks for the turn while it is held. */
  waiting = Promise.withResolvers<void>();
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#gate !== null) this.waiting.resolve();
    while (this.#gate !== null) await this.#gate.promise;
    return await work();
  }
  hold(): void {
    this.#gate ??= Promise.withResolvers<void>();
  }
  release(): void {
    this.#gate?.resolve();
    this.#gate = null;
  }
}

/** A worker on node `self` with a fake engine, recording what it sends. */
function harness(
  self: string,
  engine = new FakeEngine(),
  extra: Partial<ConstructorParameters<typeof ShardWorker>[0]> = {},
) {
  const sent: Sent[] = [];
  const waiters = new Set<() => void>();
  const resolved: string[] = [];
  const worker = new ShardWorker({
    selfId: self,
    engine,
    resolveModelDir: (model) => {
      resolved.push(model);
      return model === "missing"
        ? Promise.reject(new Error("Model missing is not on this node"))
        : Promise.resolve(`/models/${model}`);
    },
    dtype: "float32",
    executionProvider: "cpu",
    send: (to, message) => {
      sent.push({ to, message });
      for (const waiter of [...waiters]) waiter();
      return Promise.resolve();
    },
    logger: silentLogger,
    ...extra,
  });
  /** Resolves with the first sent message matching `match` (already sent or to come). */
  function waitFor(match: (sent: Sent) => boolean): Promise<Sent> {
    return new Promise((resolve) => {
      const check = () => {
        const found = sent.find(match);
        if (found === undefined) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  }
  return { worker, engine, sent, waitFor, resolved };
}

/** Resolves once `done()` holds, checking after each macrotask. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 0));
}

function meta(overrides: Partial<RequestMeta> = {}): RequestMeta {
  return {
    model: "tiny",
    origin: "a",
    shards: [
      { nodeId: "a", startLayer: 0, endLayer: 1 },
      { nodeId: "b", startLayer: 2, endLayer: 3 },
    ],
    sampling: { temperature: 0, topP: 1, topK: 0 },
    seed: 1,
    maxTokens: 8,
    eosTokenIds: [31],
    ...overrides,
  };
}

function hidden(
  requestId: string,
  step: number,
  value: number,
  extra: Partial<TensorMessage> = {},
) {
  const data = new Float32Array(HIDDEN).fill(value); // [1, 1, hidden]
  const message: TensorMessage = {
    type: "tensor",
    requestId,
    step,
    shardIndex: 1,
    meta: "",
    tensor: { dtype: "float32", shape: [1, 1, HIDDEN], data: new Uint8Array(data.buffer) },
    ...extra,
  };
  return message;
}

function isType(type: string, requestId?: string) {
  return ({ message }: Sent) =>
    message.type === type &&
    (requestId === undefined || ("requestId" in message && message.requestId === requestId));
}

Deno.test("ShardWorker on the first shard runs the prompt and forwards the hidden state with the plan", async () => {
  const { worker, waitFor } = harness("a");
  worker.onPrompt({
    type: "prompt",
    requestId: "r",
    meta: encodeRequestMeta(meta()),
    tokens: [5, 6],
  });
  const first = await waitFor(isType("tensor"));
  assert.equal(first.to, "b");
  const tensor = first.message as TensorMessage;
  assert.equal(tensor.step, 0);
  assert.equal(tensor.shardIndex, 1);
  assert.deepEqual(tensor.tensor.shape, [1, 2, HIDDEN]);
  assert.deepEqual(JSON.parse(tensor.meta), meta());
  // The last shard's token comes back: the first shard runs it as step 1, without the plan.
  worker.onToken({ type: "token", requestId: "r", step: 0, tokens: [9], finishReason: "" });
  const second = await waitFor((s) => s.message.type === "tensor" && s.message.step === 1);
  assert.equal((second.message as TensorMessage).meta, "");
  assert.deepEqual(
    [...new Float32Array((second.message as TensorMessage).tensor.data.buffer)],
    [9, 9, 9, 9],
  );
  await worker.close();
});

Deno.test("ShardWorker on the last shard samples, sends the token to the origin, and reports loading", async () => {
  const { worker, sent, waitFor } = harness("b");
  worker.onPrompt({ type: "prompt", requestId: "r", meta: encodeRequestMeta(meta()), tokens: [] });
  worker.onTensor(hidden("r", 0, 4), "a");
  const token = await waitFor(isType("token"));
  assert.equal(token.to, "a");
  assert.deepEqual(token.message, {
    type: "token",
    requestId: "r",
    step: 0,
    tokens: [5],
    finishReason: "",
  });
  // Origin and first shard are both "a": one message serves both.
  assert.equal(sent.filter(({ message }) => message.type === "token").length, 1);
  const states = sent
    .filter(({ message }) => message.type === "status")
    .map(({ message }) => JSON.parse((message as { json: string }).json).state);
  assert.deepEqual(states, ["loading", "loaded"]);
  await worker.close();
});

Deno.test("ShardWorker sends the token to the origin and to the first shard when they differ", async () => {
  const plan = meta({
    origin: "o",
    shards: [
      { nodeId: "a", startLayer: 0, endLayer: 1 },
      { nodeId: "b", startLayer: 2, endLayer: 3 },
    ],
  });
  const { worker, sent, waitFor } = harness("b");
  worker.onTensor(hidden("r", 0, 4, { meta: encodeRequestMeta(plan) }), "a");
  await waitFor((s) => s.message.type === "token" && s.to === "a");
  await waitFor((s) => s.message.type === "token" && s.to === "o");
  // The first shard hears first: the next lap starts before the origin streams the token.
  const tokens = sent.filter(({ message }) => message.type === "token");
  assert.deepEqual(tokens.map(({ to }) => to), ["a", "o"]);
  await worker.close();
});

Deno.test("ShardWorker resolves a request's model once, not on every step", async () => {
  const { worker, waitFor, resolved } = harness("b");
  worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  await waitFor(isType("token", "r"));
  for (let step = 1; step < 4; step++) {
    worker.onTensor(hidden("r", step, 2), "a");
    await waitFor((s) => s.message.type === "token" && s.message.step === step);
  }
  // Once to load ahead at the plan, once for the first step; the loaded shard serves the rest.
  assert.ok(resolved.length <= 2, `resolved ${resolved.length} times for 4 steps`);
  await worker.close();
});

Deno.test("ShardWorker forms a batch once it holds the compute turn, so steps arriving meanwhile join it", async () => {
  const turn = new GateTurn();
  const { worker, engine, waitFor } = harness("b", new FakeEngine(), { computeTurn: turn });
  for (const id of ["r1", "r2", "r3"]) {
    worker.onTensor(hidden(id, 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  }
  await worker.idle();
  turn.hold(); // another node computes: the first step waits for the turn...
  worker.onTensor(hidden("r1", 1, 2), "a");
  await turn.waiting.promise;
  worker.onTensor(hidden("r2", 1, 2), "a"); // ...and these arrive meanwhile
  worker.onTensor(hidden("r3", 1, 2), "a");
  turn.release();
  await waitFor((s) =>
    s.message.type === "token" && s.message.requestId === "r3" && s.message.step === 1
  );
  assert.deepEqual(engine.calls.slice(3), [{ kind: "batch", requestIds: ["r1", "r2", "r3"] }]);
  await worker.close();
});

Deno.test("ShardWorker passes the compute turn on before sending a step's output, so the next node finds it free", async () => {
  let held = false;
  const turn = {
    async run<T>(work: () => Promise<T>): Promise<T> {
      held = true;
      try {
        return await work();
      } finally {
        held = false;
      }
    },
  };
  const heldAtSend: string[] = [];
  const sentTypes: string[] = [];
  for (const self of ["a", "b"]) {
    const { worker } = harness(self, new FakeEngine(), {
      computeTurn: turn,
      send: (_to, message) => {
        sentTypes.push(`${self}: ${message.type}`);
        if (held) heldAtSend.push(`${self} sent ${message.type} holding the turn`);
        return Promise.resolve();
      },
    });
    if (self === "a") {
      worker.onPrompt({
        type: "prompt",
        requestId: "r",
        meta: encodeRequestMeta(meta()),
        tokens: [1, 2],
      });
    } else {
      worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
    }
    await worker.idle();
    await worker.close();
  }
  // The first shard forwards its hidden state; the last one sends its token.
  assert.ok(sentTypes.includes("a: tensor"), sentTypes.join(", "));
  assert.ok(sentTypes.includes("b: token"), sentTypes.join(", "));
  assert.deepEqual(heldAtSend, []);
});

Deno.test("ShardWorker loads a shard inside quietWhile, so peers expect the node's silence", async () => {
  const reasons: string[] = [];
  let loadsInsideQuiet = 0;
  let quiet = false;
  const engine = new FakeEngine();
  const loadShard = engine.loadShard.bind(engine);
  engine.loadShard = (spec) => {
    if (quiet) loadsInsideQuiet++;
    return loadShard(spec);
  };
  const { worker, waitFor } = harness("b", engine, {
    quietWhile: async (reason, work) => {
      reasons.push(reason);
      quiet = true;
      try {
        return await work();
      } finally {
        quiet = false;
      }
    },
  });
  worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  await waitFor(isType("token", "r"));
  assert.deepEqual(reasons, ["loading layers 2..3 of tiny"]);
  assert.equal(loadsInsideQuiet, 1, "the one load ran while quiet");
  await worker.close();
});

Deno.test("ShardWorker serves on after a request is cancelled while its step waits for the turn", async () => {
  const turn = new GateTurn();
  const { worker, waitFor } = harness("b", new FakeEngine(), { computeTurn: turn });
  worker.onTensor(hidden("r1", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  await worker.idle();
  turn.hold();
  worker.onTensor(hidden("r1", 1, 2), "a");
  await turn.waiting.promise;
  worker.onCancel("r1", "the client went away"); // drops the only queued step
  turn.release();
  await worker.idle();
  worker.onTensor(hidden("r2", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  await waitFor(isType("token", "r2"));
  assert.deepEqual(worker.requests().map((r) => r.requestId), ["r2"]);
  await worker.close();
});

Deno.test("ShardWorker ends a request at max tokens and at an EOS token, freeing its cache", async () => {
  const { worker, engine, waitFor } = harness("b");
  worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta({ maxTokens: 2 })) }), "a");
  await waitFor(isType("token", "r"));
  worker.onTensor(hidden("r", 1, 2), "a");
  const last = await waitFor((s) => s.message.type === "token" && s.message.step === 1);
  assert.equal((last.message as { finishReason: string }).finishReason, "length");
  assert.deepEqual(engine.released, ["r"]);
  assert.deepEqual(worker.requests(), []);

  worker.onTensor(hidden("e", 0, 30, { meta: encodeRequestMeta(meta()) }), "a");
  const eos = await waitFor(isType("token", "e"));
  assert.deepEqual((eos.message as { tokens: number[] }).tokens, [31]);
  assert.equal((eos.message as { finishReason: string }).finishReason, "stop");
  assert.deepEqual(worker.requests(), []);
  await worker.close();
});

Deno.test("ShardWorker runs the decode steps that are ready together as one batch", async () => {
  const { worker, engine, sent, waitFor } = harness("b");
  for (const id of ["r1", "r2", "r3"]) {
    worker.onTensor(hidden(id, 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  }
  await worker.idle();
  engine.hold();
  worker.onTensor(hidden("r1", 1, 2), "a");
  await until(() => engine.calls.length === 4); // r1's step runs...
  worker.onTensor(hidden("r2", 1, 2), "a"); // ...while these arrive
  worker.onTensor(hidden("r3", 1, 2), "a");
  engine.open();
  await waitFor((s) =>
    s.message.type === "token" && s.message.requestId === "r3" && s.message.step === 1
  );
  const decodeCalls = engine.calls.slice(3);
  assert.deepEqual(decodeCalls, [
    { kind: "step", requestIds: ["r1"] },
    { kind: "batch", requestIds: ["r2", "r3"] },
  ]);
  assert.equal(sent.filter(({ message }) => message.type === "token").length, 6);
  await worker.close();
});

Deno.test("ShardWorker refuses bad tensors with an error to the origin and frees the request", async (t) => {
  const cases: [string, Partial<TensorMessage>, RegExp][] = [
    ["a tensor for another shard", { shardIndex: 0 }, /shard 0, this node runs shard 1/],
    [
      "an int32 tensor",
      { tensor: { dtype: "int32", shape: [1, 1, HIDDEN], data: new Uint8Array(16) } },
      /expected a float32 hidden state/,
    ],
    [
      "a tensor of rank 2",
      { tensor: { dtype: "float32", shape: [1, HIDDEN], data: new Uint8Array(16) } },
      /\[1, seq, hidden\]/,
    ],
    ["a step out of order", { step: 3 }, /expected step 0/],
  ];
  for (const [name, extra, pattern] of cases) {
    await t.step(name, async () => {
      const { worker, engine, waitFor } = harness("b");
      worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta()), ...extra }), "a");
      const error = await waitFor(isType("error"));
      assert.equal(error.to, "a");
      assert.match((error.message as { message: string }).message, pattern);
      assert.deepEqual(worker.requests(), []);
      assert.deepEqual(engine.calls, []);
      await worker.close();
    });
  }
});

Deno.test("ShardWorker reports a failing step and an unloadable model to the origin", async () => {
  const { worker, engine, waitFor } = harness("b");
  engine.failNextStep = new Error("out of memory");
  worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  const error = await waitFor(isType("error", "r"));
  assert.match((error.message as { message: string }).message, /Cannot run step 0: out of memory/);
  assert.deepEqual(engine.released, ["r"]);

  worker.onPrompt({
    type: "prompt",
    requestId: "m",
    meta: encodeRequestMeta(meta({ model: "missing" })),
    tokens: [],
  });
  const missing = await waitFor(isType("error", "m"));
  assert.match(
    (missing.message as { message: string }).message,
    /Model missing is not on this node/,
  );
  await worker.close();
});

Deno.test("ShardWorker ignores malformed plans, plans without it, and unknown requests", async () => {
  const { worker, engine, sent } = harness("b");
  worker.onPrompt({ type: "prompt", requestId: "x", meta: "{not json", tokens: [] });
  worker.onPrompt({
    type: "prompt",
    requestId: "y",
    meta: JSON.stringify({ ...meta(), shards: [{ nodeId: "b", startLayer: 1, endLayer: 3 }] }),
    tokens: [],
  });
  worker.onPrompt({
    type: "prompt",
    requestId: "z",
    meta: encodeRequestMeta(meta({ shards: [{ nodeId: "a", startLayer: 0, endLayer: 3 }] })),
    tokens: [1],
  });
  worker.onTensor(hidden("unknown", 4, 1), "a");
  worker.onToken({ type: "token", requestId: "unknown", step: 0, tokens: [1], finishReason: "" });
  worker.onCancel("unknown", "test");
  await worker.close();
  assert.deepEqual(worker.requests(), []);
  assert.deepEqual(sent, []);
  assert.equal(engine.loads, 0);
});

Deno.test("ShardWorker frees a request at its cancel and ignores its late steps", async () => {
  const { worker, engine, waitFor } = harness("b");
  worker.onTensor(hidden("r", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  await waitFor(isType("token", "r"));
  assert.equal(worker.requests()[0].cachedTokens, 1);
  worker.onCancel("r", "finished");
  assert.deepEqual(worker.requests(), []);
  assert.deepEqual(engine.released, ["r"]);
  const calls = engine.calls.length;
  worker.onTensor(hidden("r", 1, 1), "a");
  // A late plan for the same request does not bring it back either.
  worker.onPrompt({ type: "prompt", requestId: "r", meta: encodeRequestMeta(meta()), tokens: [] });
  await worker.close();
  assert.equal(engine.calls.length, calls);
  assert.deepEqual(worker.requests(), []);
});

Deno.test("ShardWorker drops the requests of a node that left", async () => {
  const { worker, engine, waitFor } = harness("b");
  const other = meta({
    origin: "c",
    shards: [{ nodeId: "c", startLayer: 0, endLayer: 1 }, {
      nodeId: "b",
      startLayer: 2,
      endLayer: 3,
    }],
  });
  worker.onTensor(hidden("r1", 0, 1, { meta: encodeRequestMeta(meta()) }), "a");
  worker.onTensor(hidden("r2", 0, 1, { meta: encodeRequestMeta(other) }), "c");
  await waitFor(isType("token", "r2"));
  await waitFor(isType("token", "r1"));
  worker.onPeerDown("c");
  assert.deepEqual(worker.requests().map((r) => r.requestId), ["r1"]);
  assert.deepEqual(engine.released, ["r2"]);
  await worker.close();
});
