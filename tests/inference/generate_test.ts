import assert from "node:assert/strict";
import {
  ContextLengthError,
  generate,
  type GenerateOptions,
  type GenerateResult,
  type InferenceEngine,
  type LoadedShard,
  ModelTokenizer,
  OnnxEngine,
  sample,
  type ShardInput,
  type ShardOutput,
} from "../../lib/inference/mod.ts";
import type { ModelConfig } from "../../lib/model/model_config.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { tinyTokenizerFiles } from "../fixtures/tiny_tokenizer.ts";
import { loadReferenceWeights, referenceForward } from "../reference/llama_reference.ts";

const VOCAB = 384;
const TINY = tinyTokenizerFiles(VOCAB);
const IDS = TINY.specialTokenIds;

function tinyTokenizer(): ModelTokenizer {
  return new ModelTokenizer({
    tokenizer: TINY.tokenizer,
    tokenizerConfig: TINY.tokenizerConfig,
    generationConfig: { eos_token_id: [IDS.endOfText, IDS.eot] },
    source: "tiny",
  });
}

/** An engine that answers each step with logits that make `script`'s next token the argmax. */
class ScriptedEngine implements InferenceEngine {
  readonly shard: LoadedShard;
  readonly steps: ShardInput[] = [];
  readonly released: string[] = [];
  #script: number[];
  #cached = new Map<string, number>();

  constructor(script: number[], maxContext = 64) {
    this.#script = [...script];
    this.shard = {
      modelDir: "scripted",
      startLayer: 0,
      endLayer: 0,
      dtype: "float32",
      executionProvider: "cpu",
      activeProvider: "cpu",
      fallbackReason: null,
      placement: { providers: [{ provider: "CPUExecutionProvider", nodes: 1, ops: {} }] },
      cacheHit: true,
      maxContext,
      config: { numLayers: 1, vocabSize: VOCAB } as ModelConfig,
    };
  }

  loadShard(): Promise<LoadedShard> {
    return Promise.resolve(this.shard);
  }

  step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    this.steps.push(input);
    const seq = "tokenIds" in input ? input.tokenIds.length : input.seq;
    this.#cached.set(requestId, (this.#cached.get(requestId) ?? 0) + seq);
    const next = this.#script.shift();
    if (next === undefined) throw new RangeError("ScriptedEngine: script exhausted");
    const logits = new Float32Array(VOCAB);
    logits[next] = 10;
    return Promise.resolve({ kind: "logits", logits });
  }

  async stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]> {
    const outputs: ShardOutput[] = [];
    for (const { requestId, input } of items) outputs.push(await this.step(requestId, input));
    return outputs;
  }

  sample = sample;

  cachedLength(requestId: string): number {
    return this.#cached.get(requestId) ?? 0;
  }

  release(requestId: string): boolean {
    this.released.push(requestId);
    return this.#cached.delete(requestId);
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

async function collect(
  options: GenerateOptions,
): Promise<{ deltas: string[]; text: string; result: GenerateResult }> {
  const deltas: string[] = [];
  const completion = generate(options);
  while (true) {
    const next = await completion.next();
    if (next.done) return { deltas, text: deltas.join(""), result: next.value };
    deltas.push(next.value);
  }
}

/** Byte-level ids of ASCII text in the tiny tokenizer (a byte's id is the byte). */
function bytes(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

Deno.test("generate stops at an EOS token with finish reason stop and counts it", async () => {
  const engine = new ScriptedEngine([...bytes("Hi"), IDS.eot, 65]);
  const { text, result } = await collect({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "x" },
    maxTokens: 10,
    requestId: "r",
  });
  assert.equal(text, "Hi");
  assert.equal(result.finishReason, "stop");
  assert.equal(result.completionTokens, 3);
  assert.deepEqual(result.completionIds, [72, 105, IDS.eot]);
  assert.equal(result.promptTokens, 1);
  assert.deepEqual(engine.released, ["r"]);
  assert.equal(engine.cachedLength("r"), 0);
});

Deno.test("generate stops at maxTokens with finish reason length", async () => {
  const engine = new ScriptedEngine(bytes("abcdefgh"));
  const { text, result } = await collect({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "x" },
    maxTokens: 3,
  });
  assert.equal(text, "abc");
  assert.equal(result.finishReason, "length");
  assert.equal(result.completionTokens, 3);
  // Prefill plus one decode step per fed-back token: the last sampled token is never fed.
  assert.equal(engine.steps.length, 3);
  assert.deepEqual(engine.steps.slice(1), [{ tokenIds: [97] }, { tokenIds: [98] }]);
  assert.equal(engine.released.length, 1);
});

Deno.test("generate stops with finish reason length when the context is full", async () => {
  const engine = new ScriptedEngine(bytes("abcdefgh"), 4);
  const { text, result } = await collect({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "xy" },
    maxTokens: 100,
  });
  // Two prompt tokens and two fed-back tokens fill the context; the third sample ends it.
  assert.equal(text, "abc");
  assert.equal(result.finishReason, "length");
});

Deno.test("generate ends at a stop string spanning tokens and leaves it out", async () => {
  const engine = new ScriptedEngine(bytes("ok\nUser: more"));
  const { text, result } = await collect({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "x" },
    maxTokens: 50,
    stop: ["\nUser:"],
  });
  assert.equal(text, "ok");
  assert.equal(result.finishReason, "stop");
  assert.equal(result.stop, "\nUser:");
});

Deno.test("generate never yields half a UTF-8 character", async () => {
  const engine = new ScriptedEngine([...bytes("é€a"), IDS.eot]);
  const { deltas, text } = await collect({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "x" },
    maxTokens: 50,
  });
  assert.equal(text, "é€a");
  for (const delta of deltas) assert.ok(!delta.includes("\uFFFD"), JSON.stringify(delta));
});

Deno.test("generate refuses a prompt longer than the context, naming both lengths", async () => {
  const engine = new ScriptedEngine([65], 4);
  await assert.rejects(
    collect({ engine, tokenizer: tinyTokenizer(), input: { prompt: "abcdef" }, maxTokens: 5 }),
    (error) => {
      assert.ok(error instanceof ContextLengthError);
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /^Cannot run prompt: 6 tokens exceed the model context of 4/);
      return true;
    },
  );
  assert.equal(engine.steps.length, 0);
});

Deno.test("generate releases the request when the caller stops early", async () => {
  const engine = new ScriptedEngine(bytes("abcdefgh"));
  const completion = generate({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "x" },
    maxTokens: 50,
    requestId: "early",
  });
  assert.equal((await completion.next()).value, "a");
  await completion.return(undefined as never);
  assert.deepEqual(engine.released, ["early"]);
});

Deno.test("generate stops with the abort reason when its signal fires and releases", async () => {
  const engine = new ScriptedEngine(bytes("abcdefgh"));
  const controller = new AbortController();
  const completion = generate({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "x" },
    maxTokens: 50,
    requestId: "aborted",
    signal: controller.signal,
  });
  assert.equal((await completion.next()).value, "a");
  controller.abort(new Error("client went away"));
  await assert.rejects(completion.next(), /client went away/);
  assert.deepEqual(engine.released, ["aborted"]);
  assert.equal(engine.steps.length, 1);
});

Deno.test("generate fails rather than restart when the request's cache was released", async () => {
  const engine = new ScriptedEngine(bytes("abcdefgh"));
  const completion = generate({
    engine,
    tokenizer: tinyTokenizer(),
    input: { prompt: "xy" },
    maxTokens: 50,
    requestId: "evicted",
  });
  assert.equal((await completion.next()).value, "a");
  engine.release("evicted");
  await assert.rejects(
    completion.next(),
    /^RangeError: Cannot continue request evicted: its KV cache holds 0 of 2 tokens/,
  );
});

// --- On a real ONNX shard, against the float64 reference ---

async function withEngine(
  body: (
    f: { engine: OnnxEngine; tokenizer: ModelTokenizer; dir: string; config: ModelConfig },
  ) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "generate_test_" });
  const engine = new OnnxEngine({ cacheDir: `${root}/cache`, threads: 1, maxContext: 64 });
  try {
    const { dir, config } = await writeRandomCheckpoint(`${root}/model`, {
      architecture: "llama",
      seed: 11,
    });
    await engine.loadShard({
      modelDir: dir,
      startLayer: 0,
      endLayer: config.numLayers - 1,
      dtype: "float32",
      executionProvider: "cpu",
    });
    await body({ engine, tokenizer: await ModelTokenizer.load(dir), dir, config });
  } finally {
    await engine.dispose();
    await Deno.remove(root, { recursive: true });
  }
}

function argmax64(logits: Float64Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

Deno.test("generate greedy matches the float64 reference's greedy tokens", async () => {
  await withEngine(async ({ engine, tokenizer, dir, config }) => {
    const messages = [{ role: "user", content: "Hello world" }];
    const prompt = tokenizer.encodeChat(messages);
    const weights = await loadReferenceWeights(dir);
    const sequence = [...prompt];
    const expected: number[] = [];
    while (expected.length < 8) {
      // The whole sequence again each step: no cache on the reference side.
      const logits = referenceForward(weights, config, sequence);
      const token = argmax64(logits[logits.length - 1]);
      expected.push(token);
      if (tokenizer.eosTokenIds.has(token)) break;
      sequence.push(token);
    }

    const { text, result } = await collect({
      engine,
      tokenizer,
      input: { messages },
      maxTokens: 8,
      sampling: { temperature: 0, topP: 1, topK: 0 },
      requestId: "greedy",
    });
    assert.deepEqual(result.completionIds, expected);
    assert.equal(text, tokenizer.decode(expected, { skipSpecialTokens: true }));
    assert.equal(result.promptTokens, prompt.length);
    assert.equal(result.completionTokens, expected.length);
    const endedAtEos = tokenizer.eosTokenIds.has(expected[expected.length - 1]);
    assert.equal(result.finishReason, endedAtEos ? "stop" : "length");
    assert.equal(engine.cachedLength("greedy"), 0);
  });
});

Deno.test("generate with the same seed samples the same text", async () => {
  await withEngine(async ({ engine, tokenizer }) => {
    const run = (seed: number) =>
      collect({
        engine,
        tokenizer,
        input: { prompt: "Hello" },
        maxTokens: 12,
        sampling: { temperature: 1.5, topP: 1, topK: 0 },
        seed,
      });
    const first = await run(42);
    const second = await run(42);
    assert.equal(second.text, first.text);
    assert.deepEqual(second.deltas, first.deltas);
    assert.deepEqual(second.result.completionIds, first.result.completionIds);
    // The seed does steer sampling: some other seed draws other tokens.
    const others = await Promise.all([1, 2, 3].map(async (seed) => (await run(seed)).result));
    assert.ok(
      others.some((other) => other.completionIds.join() !== first.result.completionIds.join()),
    );
  });
});
