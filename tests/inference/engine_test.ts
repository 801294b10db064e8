import assert from "node:assert/strict";
import {
  ContextLengthError,
  defaultDType,
  OnnxEngine,
  type OnnxEngineOptions,
  type ShardOutput,
  type ShardRequest,
} from "../../lib/inference/mod.ts";
import type { ModelConfig } from "../../lib/model/model_config.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { loadReferenceWeights, referenceForward } from "../reference/llama_reference.ts";

interface Fixture {
  root: string;
  dir: string;
  config: ModelConfig;
  /** The whole model, float32 on CPU. */
  whole: ShardRequest;
  newEngine(options?: Partial<OnnxEngineOptions>): OnnxEngine;
}

async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "engine_test_" });
  const engines: OnnxEngine[] = [];
  try {
    const { dir, config } = await writeRandomCheckpoint(`${root}/model`, {
      architecture: "llama",
      numLayers: 2,
      seed: 3,
    });
    await body({
      root,
      dir,
      config,
      whole: {
        modelDir: dir,
        startLayer: 0,
        endLayer: config.numLayers - 1,
        dtype: "float32",
        executionProvider: "cpu",
      },
      newEngine(options = {}) {
        const engine = new OnnxEngine({
          cacheDir: `${root}/cache`,
          threads: 1,
          maxContext: 16,
          ...options,
        });
        engines.push(engine);
        return engine;
      },
    });
  } finally {
    for (const engine of engines) await engine.dispose();
    await Deno.remove(root, { recursive: true });
  }
}

function logitsOf(output: ShardOutput): Float32Array {
  assert.equal(output.kind, "logits");
  return (output as { logits: Float32Array }).logits;
}

/** Batched kernels sum in another order than single ones, so results match to rounding. */
function assertNear(got: Float32Array, want: Float32Array): void {
  assert.equal(got.length, want.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
  }
  assert.ok(diff <= 1e-5 * scale, `diff ${diff} over ${scale}`);
}

Deno.test("OnnxEngine runs prefill and cached decode matching the float64 reference", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine();
    const shard = await engine.loadShard(f.whole);
    assert.equal(shard.activeProvider, "cpu");
    assert.equal(shard.fallbackReason, null);
    assert.equal(shard.maxContext, 16);
    assert.equal(shard.config.numLayers, 2);
    const weights = await loadReferenceWeights(f.dir);
    const tokens = [1, 40, 200];
    const check = (output: ShardOutput) => {
      const want = referenceForward(weights, f.config, tokens).at(-1)!;
      const got = logitsOf(output);
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i]));
        diff = Math.max(diff, Math.abs(got[i] - want[i]));
      }
      assert.ok(diff <= 1e-4 * scale, `diff ${diff} over ${scale}`);
    };
    check(await engine.step("r", { tokenIds: tokens }));
    tokens.push(7);
    check(await engine.step("r", { tokenIds: [7] }));
    assert.equal(engine.cachedLength("r"), 4);
  });
});

Deno.test("OnnxEngine release frees the request's cache", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine();
    await engine.loadShard(f.whole);
    await engine.step("a", { tokenIds: [1, 2, 3] });
    await engine.step("b", { tokenIds: [4] });
    assert.equal(engine.cachedLength("a"), 3);
    assert.equal(engine.release("a"), true);
    assert.equal(engine.cachedLength("a"), 0);
    assert.equal(engine.release("a"), false);
    assert.equal(engine.cachedLength("b"), 1);
    // A released id starts over at position 0.
    await engine.step("a", { tokenIds: [5] });
    assert.equal(engine.cachedLength("a"), 1);
  });
});

Deno.test("OnnxEngine frees an idle request's cache after the idle timeout", async () => {
  await withFixture(async (f) => {
    const released = Promise.withResolvers<string>();
    const engine = f.newEngine({ idleTimeoutMs: 20, onIdleRelease: released.resolve });
    await engine.loadShard(f.whole);
    await engine.step("idle", { tokenIds: [1, 2] });
    assert.equal(engine.cachedLength("idle"), 2);
    assert.equal(await released.promise, "idle");
    assert.equal(engine.cachedLength("idle"), 0);
  });
});

Deno.test("OnnxEngine dispose clears a pending idle timer", async () => {
  await withFixture(async (f) => {
    // The test sanitizer fails the test if the 5-minute timer outlives dispose.
    const engine = f.newEngine({ idleTimeoutMs: 300_000 });
    await engine.loadShard(f.whole);
    await engine.step("r", { tokenIds: [1] });
    await engine.dispose();
    assert.equal(engine.shard, null);
    assert.equal(engine.cachedLength("r"), 0);
    await assert.rejects(engine.step("r", { tokenIds: [1] }), TypeError);
  });
});

Deno.test("OnnxEngine refuses input past the context with both lengths in the message", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine({ maxContext: 8 });
    await engine.loadShard(f.whole);
    await assert.rejects(
      engine.step("long", { tokenIds: Array.from({ length: 9 }, (_, i) => i) }),
      (error) => {
        assert.ok(error instanceof ContextLengthError);
        assert.ok(error instanceof RangeError);
        assert.equal(error.length, 9);
        assert.equal(error.maxContext, 8);
        assert.match(error.message, /9 tokens exceed the model context of 8 tokens/);
        return true;
      },
    );
    assert.equal(engine.cachedLength("long"), 0);
    await engine.step("full", { tokenIds: [1, 2, 3, 4, 5, 6, 7, 8] });
    await assert.rejects(engine.step("full", { tokenIds: [9] }), /9 tokens exceed.* of 8 tokens/);
    assert.equal(engine.cachedLength("full"), 8);
  });
});

Deno.test("OnnxEngine stepBatch matches single steps and keeps each cache", async () => {
  await withFixture(async (f) => {
    const single = f.newEngine();
    await single.loadShard(f.whole);
    await single.step("a", { tokenIds: [1, 40, 200] });
    await single.step("b", { tokenIds: [9] });
    const wantA = logitsOf(await single.step("a", { tokenIds: [7] }));
    const wantB = logitsOf(await single.step("b", { tokenIds: [3] }));
    await single.dispose();

    const batched = f.newEngine();
    await batched.loadShard(f.whole);
    await batched.step("a", { tokenIds: [1, 40, 200] });
    await batched.step("b", { tokenIds: [9] });
    const [gotB, gotA] = await batched.stepBatch([
      { requestId: "b", input: { tokenIds: [3] } },
      { requestId: "a", input: { tokenIds: [7] } },
    ]);
    assertNear(logitsOf(gotA), wantA);
    assertNear(logitsOf(gotB), wantB);
    assert.equal(batched.cachedLength("a"), 4);
    assert.equal(batched.cachedLength("b"), 2);
  });
});

Deno.test("OnnxEngine stepBatch refuses a batch when one request would outgrow the context", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine({ maxContext: 8 });
    await engine.loadShard(f.whole);
    await engine.step("full", { tokenIds: [1, 2, 3, 4, 5, 6, 7, 8] });
    await engine.step("short", { tokenIds: [1] });
    await assert.rejects(
      engine.stepBatch([
        { requestId: "short", input: { tokenIds: [2] } },
        { requestId: "full", input: { tokenIds: [9] } },
      ]),
      (error) => error instanceof ContextLengthError && error.length === 9,
    );
    assert.equal(engine.cachedLength("short"), 1);
    assert.equal(engine.cachedLength("full"), 8);
  });
});

Deno.test("OnnxEngine stepBatch refuses before any shard is loaded", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine();
    await assert.rejects(
      engine.stepBatch([{ requestId: "r", input: { tokenIds: [1] } }]),
      TypeError,
    );
  });
});

Deno.test("OnnxEngine keeps one shard: loading another disposes the first and its caches", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine();
    const first = await engine.loadShard(f.whole);
    assert.equal(await engine.loadShard({ ...f.whole }), first, "same shard is not reloaded");
    await engine.step("r", { tokenIds: [1, 2] });
    const second = await engine.loadShard({ ...f.whole, endLayer: 0 });
    assert.notEqual(second, first);
    assert.equal(engine.shard, second);
    assert.equal(engine.cachedLength("r"), 0);
    const output = await engine.step("r", { tokenIds: [1, 2] });
    assert.equal(output.kind, "hidden");
  });
});

Deno.test("OnnxEngine refuses a step before any shard is loaded", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine();
    await assert.rejects(
      engine.step("r", { tokenIds: [1] }),
      /^TypeError: Cannot run request r: no shard is loaded$/,
    );
  });
});

Deno.test("OnnxEngine reports the provider in use and why CoreML fell back", async () => {
  await withFixture(async (f) => {
    const engine = f.newEngine();
    const shard = await engine.loadShard({ ...f.whole, executionProvider: "coreml" });
    assert.equal(shard.executionProvider, "coreml");
    if (shard.activeProvider === "cpu") assert.match(shard.fallbackReason ?? "", /CoreML/);
    else assert.equal(shard.fallbackReason, null);
  });
});

Deno.test("defaultDType picks q4 for CPU and float16 for CoreML", () => {
  assert.equal(defaultDType("cpu"), "q4");
  assert.equal(defaultDType("coreml"), "float16");
});
