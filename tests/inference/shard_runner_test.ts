import assert from "node:assert/strict";
import { Logger } from "../../lib/log/logger.ts";
import { type ShardOutput, ShardRunner } from "../../lib/inference/shard_runner.ts";
import type { ShardDType } from "../../lib/inference/onnx/shard_signature.ts";
import type { CheckpointSpec } from "../fixtures/make_checkpoint.ts";
import {
  ARCHITECTURES,
  assertClose,
  DECODED,
  type Fixture,
  FLOAT16_TOLERANCE,
  FLOAT32_TOLERANCE,
  hiddenOf,
  lastLogits,
  loadWholeShard,
  logitsOf,
  PROMPT,
  Q4_TOLERANCE,
  withCheckpoint,
} from "./_shard_fixture.ts";

function load(
  f: Fixture,
  startLayer: number,
  endLayer: number,
  options: {
    dtype?: ShardDType;
    cacheChunk?: number;
    maxContext?: number;
    prefillChunk?: number;
    buildInWorker?: boolean;
  } = {},
): Promise<ShardRunner> {
  return ShardRunner.load({
    modelDir: f.dir,
    config: f.config,
    startLayer,
    endLayer,
    cacheDir: `${f.root}/cache`,
    dtype: options.dtype ?? "float32",
    executionProvider: "cpu",
    threads: 1,
    cacheChunk: options.cacheChunk ?? 4,
    maxContext: options.maxContext ?? 64,
    prefillChunk: options.prefillChunk,
    buildInWorker: options.buildInWorker,
  });
}

for (const [name, spec] of ARCHITECTURES) {
  Deno.test(`ShardRunner prefill and cached decode of ${name} match the float64 reference`, async () => {
    await withCheckpoint({ ...spec, seed: 7 }, async (f) => {
      const runner = await load(f, 0, f.config.numLayers - 1);
      try {
        const tokens = [...PROMPT];
        assertClose(
          logitsOf(await runner.step("r", { tokenIds: tokens })),
          lastLogits(f, tokens),
          FLOAT32_TOLERANCE,
          "prefill",
        );
        // Decoding past the 4-token cache chunk also exercises the cache's growth.
        for (const token of DECODED) {
          tokens.push(token);
          assertClose(
            logitsOf(await runner.step("r", { tokenIds: [token] })),
            lastLogits(f, tokens),
            FLOAT32_TOLERANCE,
            `decode at ${tokens.length}`,
          );
        }
        assert.equal(runner.cachedLength("r"), tokens.length);
      } finally {
        await runner.dispose();
      }
    });
  });
}

const LOOSER: [ShardDType, number, [string, CheckpointSpec][]][] = [
  ["float16", FLOAT16_TOLERANCE, [ARCHITECTURES[1], ARCHITECTURES[3], ARCHITECTURES[4]]],
  ["q4", Q4_TOLERANCE, [ARCHITECTURES[0], ARCHITECTURES[4], ARCHITECTURES[3]]],
];
for (const [dtype, tolerance, specs] of LOOSER) {
  for (const [name, spec] of specs) {
    Deno.test(`ShardRunner ${dtype} prefill and cached decode of ${name} stay near the reference`, async () => {
      await withCheckpoint({ ...spec, seed: 7 }, async (f) => {
        const runner = await load(f, 0, f.config.numLayers - 1, { dtype });
        try {
          const tokens = [...PROMPT];
          assertClose(
            logitsOf(await runner.step("r", { tokenIds: tokens })),
            lastLogits(f, tokens),
            tolerance,
            "prefill",
          );
          for (const token of DECODED.slice(0, 2)) {
            tokens.push(token);
            assertClose(
              logitsOf(await runner.step("r", { tokenIds: [token] })),
              lastLogits(f, tokens),
              tolerance,
              `decode at ${tokens.length}`,
            );
          }
        } finally {
          await runner.dispose();
        }
      });
    });
  }
}

Deno.test("ShardRunner chunked prefill after a cached prefix matches the reference", async () => {
  await withCheckpoint({ architecture: "llama", seed: 3 }, async (f) => {
    const runner = await load(f, 0, f.config.numLayers - 1);
    try {
      await runner.step("r", { tokenIds: PROMPT.slice(0, 3) });
      assertClose(
        logitsOf(await runner.step("r", { tokenIds: PROMPT.slice(3) })),
        lastLogits(f, PROMPT),
        FLOAT32_TOLERANCE,
        "second chunk",
      );
    } finally {
      await runner.dispose();
    }
  });
});

Deno.test("ShardRunner runs a long prompt in prefill slices with the same result", async () => {
  await withCheckpoint({ architecture: "mistral", seed: 21 }, async (f) => {
    const whole = await load(f, 0, 1);
    let want: Float32Array;
    try {
      want = hiddenOf(await whole.step("r", { tokenIds: PROMPT })).hidden;
    } finally {
      await whole.dispose();
    }
    const sliced = await load(f, 0, 1, { prefillChunk: 4 });
    try {
      const got = hiddenOf(await sliced.step("r", { tokenIds: PROMPT }));
      assert.equal(got.seq, PROMPT.length);
      assertClose(got.hidden, want, 1e-5, "hidden states");
      assert.equal(sliced.cachedLength("r"), PROMPT.length);
    } finally {
      await sliced.dispose();
    }
  });
});

Deno.test("ShardRunner shards chained by hand equal one shard over all layers", async () => {
  await withCheckpoint({ architecture: "qwen2", numLayers: 4, seed: 11 }, async (f) => {
    const whole = await load(f, 0, 3);
    const wholeLogits: Float32Array[] = [];
    try {
      wholeLogits.push(logitsOf(await whole.step("r", { tokenIds: PROMPT })));
      for (const token of DECODED.slice(0, 2)) {
        wholeLogits.push(logitsOf(await whole.step("r", { tokenIds: [token] })));
      }
    } finally {
      await whole.dispose();
    }
    // One session at a time: idle sessions' spinning thread pools would steal the cores.
    for (const cuts of [[[0, 1], [2, 3]], [[0, 0], [1, 2], [3, 3]]]) {
      const inputs = [PROMPT, ...DECODED.slice(0, 2).map((t) => [t])];
      let carried: { hidden: Float32Array; seq: number }[] = [];
      let logits: Float32Array[] = [];
      for (const [start, end] of cuts) {
        const runner = await load(f, start, end);
        try {
          const next: { hidden: Float32Array; seq: number }[] = [];
          logits = [];
          for (let step = 0; step < inputs.length; step++) {
            const output = start === 0
              ? await runner.step("r", { tokenIds: inputs[step] })
              : await runner.step("r", carried[step]);
            if (end === 3) logits.push(logitsOf(output));
            else next.push(hiddenOf(output));
          }
          carried = next;
        } finally {
          await runner.dispose();
        }
      }
      logits.forEach((l, step) =>
        assertClose(l, wholeLogits[step], 1e-5, `${cuts.length} shards, step ${step}`)
      );
    }
  });
});

Deno.test("ShardRunner float16 shards chained by hand stay near the reference", async () => {
  await withCheckpoint(
    { architecture: "qwen3", numLayers: 4, headDim: 32, seed: 13 },
    async (f) => {
      const tokens = [...PROMPT];
      const first = await load(f, 0, 1, { dtype: "float16" });
      const carried: { hidden: Float32Array; seq: number }[] = [];
      try {
        carried.push(hiddenOf(await first.step("r", { tokenIds: tokens })));
        carried.push(hiddenOf(await first.step("r", { tokenIds: [DECODED[0]] })));
      } finally {
        await first.dispose();
      }
      const last = await load(f, 2, 3, { dtype: "float16" });
      try {
        assertClose(
          logitsOf(await last.step("r", carried[0])),
          lastLogits(f, tokens),
          FLOAT16_TOLERANCE,
          "prefill",
        );
        tokens.push(DECODED[0]);
        assertClose(
          logitsOf(await last.step("r", carried[1])),
          lastLogits(f, tokens),
          FLOAT16_TOLERANCE,
          "decode",
        );
      } finally {
        await last.dispose();
      }
    },
  );
});

Deno.test("ShardRunner batched decode of requests at different lengths matches the reference", async () => {
  await withCheckpoint({ architecture: "qwen2", numLayers: 4, seed: 17 }, async (f) => {
    const prompts: Record<string, number[]> = { a: [1, 2], b: [3, 4, 5, 6, 7], c: [8, 9, 10] };
    const ids = ["a", "b", "c", "d"]; // "d" has no cache: its batch row is a fresh prefill
    const rounds = [[11, 12, 13, 14], [15, 16, 17, 18]];
    const sequences: Record<string, number[]> = {
      a: [...prompts.a],
      b: [...prompts.b],
      c: [...prompts.c],
      d: [],
    };
    for (const round of rounds) ids.forEach((id, b) => sequences[id].push(round[b]));

    // Shard 0..1 first, then 2..3 on its hidden states: one session alive at a time.
    const carried: ShardOutput[][] = [];
    const first = await load(f, 0, 1);
    try {
      for (const id of ["a", "b", "c"]) {
        carried.push([await first.step(id, { tokenIds: prompts[id] })]);
      }
      for (const round of rounds) {
        carried.push(
          await first.stepBatch(
            ids.map((id, b) => ({ requestId: id, input: { tokenIds: [round[b]] } })),
          ),
        );
      }
    } finally {
      await first.dispose();
    }
    const last = await load(f, 2, 3);
    try {
      for (const [i, id] of ["a", "b", "c"].entries()) {
        const { hidden, seq } = hiddenOf(carried[i][0]);
        await last.step(id, { hidden, seq });
      }
      for (let r = 0; r < rounds.length; r++) {
        const outputs = await last.stepBatch(
          ids.map((id, b) => ({ requestId: id, input: hiddenOf(carried[3 + r][b]) })),
        );
        ids.forEach((id, b) => {
          const length = id === "d" ? r + 1 : prompts[id].length + r + 1;
          assertClose(
            logitsOf(outputs[b]),
            lastLogits(f, sequences[id].slice(0, length)),
            FLOAT32_TOLERANCE,
            `round ${r}, request ${id}`,
          );
        });
      }
      // After the batch, single steps carry on from the same caches.
      assert.equal(last.cachedLength("b"), sequences.b.length);
      await assert.rejects(
        last.stepBatch([{ requestId: "a", input: { hidden: new Float32Array(128), seq: 2 } }]),
        RangeError,
      );
      assert.equal(last.cachedLength("a"), sequences.a.length);
    } finally {
      await last.dispose();
    }
  });
});

Deno.test("ShardRunner batched decode matches the reference while the batch membership changes", async () => {
  await withCheckpoint({ architecture: "llama", numLayers: 2, seed: 23 }, async (f) => {
    const runner = await load(f, 0, f.config.numLayers - 1);
    const sequences = new Map<string, number[]>();
    let next = 20;
    const check = (id: string, output: ShardOutput, what: string) =>
      assertClose(logitsOf(output), lastLogits(f, sequences.get(id)!), FLOAT32_TOLERANCE, what);
    const single = async (id: string, tokens: number[]) => {
      sequences.set(id, [...(sequences.get(id) ?? []), ...tokens]);
      check(id, await runner.step(id, { tokenIds: tokens }), `single ${id}`);
    };
    const batch = async (ids: string[]) => {
      const tokens = ids.map(() => next++);
      ids.forEach((id, b) => sequences.set(id, [...(sequences.get(id) ?? []), tokens[b]]));
      const outputs = await runner.stepBatch(
        ids.map((id, b) => ({ requestId: id, input: { tokenIds: [tokens[b]] } })),
      );
      ids.forEach((id, b) => check(id, outputs[b], `batch ${ids.join("")}, request ${id}`));
      for (const id of ids) assert.equal(runner.cachedLength(id), sequences.get(id)!.length);
    };
    try {
      await single("a", [1, 2]);
      await single("b", [3, 4, 5, 6, 7]);
      await single("c", [8, 9, 10]);
      await batch(["a", "b", "c", "d"]); // "d" starts in the batch
      await batch(["c", "a"]); // fewer requests, another order
      await batch(["a", "c"]); // the same two again: only new rows are copied
      await single("b", [11]); // a single step between batches
      await batch(["b", "c", "a"]);
      assert.equal(runner.release("c"), true); // released mid-conversation, id reused below
      sequences.delete("c");
      await batch(["a", "b", "c"]);
      await batch(["a", "b", "c"]);
      for (let i = 0; i < 4; i++) await batch(["d", "a", "b", "c"]); // caches grow past a chunk
      await single("a", [12]);
    } finally {
      await runner.dispose();
    }
  });
});

Deno.test("ShardRunner keeps each request's cache apart and frees it on release", async () => {
  await withCheckpoint({ architecture: "llama", seed: 5 }, async (f) => {
    const runner = await load(f, 0, f.config.numLayers - 1);
    try {
      const a = [1, 2, 3];
      const b = [9, 8, 7, 6];
      await runner.step("a", { tokenIds: a });
      await runner.step("b", { tokenIds: b });
      a.push(4);
      b.push(5);
      assertClose(
        logitsOf(await runner.step("a", { tokenIds: [4] })),
        lastLogits(f, a),
        FLOAT32_TOLERANCE,
        "a",
      );
      assertClose(
        logitsOf(await runner.step("b", { tokenIds: [5] })),
        lastLogits(f, b),
        FLOAT32_TOLERANCE,
        "b",
      );
      assert.deepEqual(runner.requestIds().sort(), ["a", "b"]);

      assert.equal(runner.release("a"), true);
      assert.equal(runner.release("a"), false);
      assert.deepEqual(runner.requestIds(), ["b"]);
      assert.equal(runner.cachedLength("a"), 0);
      // A released id starts over: its next step is a fresh prefill.
      assertClose(
        logitsOf(await runner.step("a", { tokenIds: [4] })),
        lastLogits(f, [4]),
        FLOAT32_TOLERANCE,
        "a again",
      );
    } finally {
      await runner.dispose();
    }
  });
});

Deno.test("ShardRunner releasing a request while its step runs frees the cache only after that step", async () => {
  await withCheckpoint({ architecture: "llama", seed: 5 }, async (f) => {
    // Capacity 4: the prompt and the decode below grow the cache, replacing its buffers.
    const runner = await load(f, 0, f.config.numLayers - 1, { cacheChunk: 4 });
    try {
      const tokens = [1, 2, 3, 4, 5];
      await runner.step("a", { tokenIds: tokens });
      const running = runner.step("a", { tokenIds: [6] });
      // The queued step starts in the next microtask (its queue is settled), before this
      // continuation: the release below comes while its session run reads the cache.
      await Promise.resolve();
      assert.equal(runner.release("a"), true);
      assertClose(
        logitsOf(await running),
        lastLogits(f, [...tokens, 6]),
        FLOAT32_TOLERANCE,
        "the step in flight",
      );
      assert.equal(runner.cachedLength("a"), 0);
      assertClose(
        logitsOf(await runner.step("a", { tokenIds: [7] })),
        lastLogits(f, [7]),
        FLOAT32_TOLERANCE,
        "a fresh request under the same id",
      );
    } finally {
      await runner.dispose();
    }
  });
});

Deno.test("ShardRunner second load of the same shard hits the disk cache", async () => {
  await withCheckpoint({ architecture: "llama", seed: 9 }, async (f) => {
    const first = await load(f, 0, 1);
    let hidden: Float32Array;
    try {
      assert.equal(first.cacheHit, false);
      hidden = hiddenOf(await first.step("r", { tokenIds: PROMPT })).hidden;
    } finally {
      await first.dispose();
    }
    const second = await load(f, 0, 1);
    try {
      assert.equal(second.cacheHit, true);
      assert.deepEqual(hiddenOf(await second.step("r", { tokenIds: PROMPT })).hidden, hidden);
    } finally {
      await second.dispose();
    }
    const otherRange = await load(f, 0, 2);
    try {
      assert.equal(otherRange.cacheHit, false);
    } finally {
      await otherRange.dispose();
    }
  });
});

Deno.test("ShardRunner asked for CoreML where the build lacks it runs on CPU and says why", {
  ignore: Deno.build.os === "darwin",
}, async () => {
  await withCheckpoint({ architecture: "llama", seed: 2 }, async (f) => {
    const runner = await loadWholeShard(f, {
      executionProvider: "coreml",
      maxContext: 16,
      logger: new Logger("error", () => {}),
    });
    try {
      assert.equal(runner.executionProvider, "cpu");
      assert.match(runner.fallbackReason ?? "", /CoreML/);
      assertClose(
        logitsOf(await runner.step("r", { tokenIds: PROMPT })),
        lastLogits(f, PROMPT),
        FLOAT32_TOLERANCE,
        "cpu",
      );
    } finally {
      await runner.dispose();
    }
  });
});

Deno.test("ShardRunner rejects bad input and leaves the cache unchanged", async () => {
  await withCheckpoint({ architecture: "llama", seed: 2 }, async (f) => {
    await assert.rejects(load(f, 2, 1), RangeError);
    await assert.rejects(load(f, 0, f.config.numLayers), RangeError);
    const first = await load(f, 0, 1, { maxContext: 8 });
    try {
      await assert.rejects(first.step("r", { hidden: new Float32Array(64), seq: 1 }), TypeError);
      await assert.rejects(first.step("r", { tokenIds: [] }), RangeError);
      await assert.rejects(first.step("r", { tokenIds: [f.config.vocabSize] }), RangeError);
      await first.step("r", { tokenIds: [1, 2, 3, 4, 5, 6] });
      await assert.rejects(first.step("r", { tokenIds: [1, 2, 3] }), RangeError);
      assert.equal(first.cachedLength("r"), 6);
    } finally {
      await first.dispose();
    }
    const last = await load(f, 2, f.config.numLayers - 1);
    try {
      await assert.rejects(last.step("r", { tokenIds: [1] }), TypeError);
      await assert.rejects(last.step("r", { hidden: new Float32Array(10), seq: 1 }), RangeError);
      assert.deepEqual(last.requestIds(), []);
    } finally {
      await last.dispose();
    }
  });
});

Deno.test("ShardRunner converts in a worker thread with the same result, and its errors keep their type", async () => {
  await withCheckpoint({ architecture: "llama", numLayers: 2 }, async (f) => {
    const ids = [3, 1, 4, 1, 5];
    const inWorker = await load(f, 0, 1, { buildInWorker: true });
    try {
      assert.equal(inWorker.cacheHit, false);
      assertClose(
        logitsOf(await inWorker.step("r", { tokenIds: ids })),
        lastLogits(f, ids),
        FLOAT32_TOLERANCE,
        "worker-built shard",
      );
    } finally {
      await inWorker.dispose();
    }
    const again = await load(f, 0, 1, { buildInWorker: true });
    assert.equal(again.cacheHit, true);
    await again.dispose();

    // A truncated weight file fails in the worker as the CheckpointError it is.
    const file = `${f.dir}/model.safetensors`;
    const bytes = await Deno.readFile(file);
    await Deno.writeFile(file, bytes.subarray(0, bytes.length - 64));
    await assert.rejects(
      load(f, 0, 1, { buildInWorker: true }),
      (error: Error) => {
        assert.equal(error.name, "CheckpointError");
        assert.match(error.message, /model\.safetensors/);
        return true;
      },
    );
  });
});
