// The GroupQueryAttention shard graph and its runner, the WebGPU path: the same checks
// against the float64 reference run on the CPU provider (always) and on the WebGPU provider
// (on CI through Mesa's lavapipe; see tests/_helpers/webgpu.ts), with the KV cache kept on
// the GPU between steps.
import assert from "node:assert/strict";
import { TOLERANCE } from "../../lib/inference/agreement.ts";
import { GqaShardRunner } from "../../lib/inference/gqa_shard_runner.ts";
import type { ExecutionProvider } from "../../lib/inference/onnx/ort_session.ts";
import type { ShardDType } from "../../lib/inference/onnx/shard_signature.ts";
import { offProvider } from "../../lib/inference/onnx/placement.ts";
import {
  ARCHITECTURES,
  assertClose,
  type Fixture,
  FLOAT32_TOLERANCE,
  hiddenOf,
  lastLogits,
  logitsOf,
  PROMPT,
  Q4_TOLERANCE,
  withCheckpoint,
} from "./_shard_fixture.ts";
import { webgpuTest } from "../_helpers/webgpu.ts";

/** float16 weights, activations and cache on the GPU; the measurements are in agreement.ts. */
const GPU_FLOAT16_TOLERANCE = TOLERANCE.float16;
/** Decode steps checked after the prompt: the cache grows on the device 32 times. */
const DECODE_STEPS = 32;

function load(
  f: Fixture,
  provider: ExecutionProvider,
  startLayer: number,
  endLayer: number,
  options: { dtype?: ShardDType; prefillChunk?: number; maxContext?: number } = {},
): Promise<GqaShardRunner> {
  return GqaShardRunner.load({
    modelDir: f.dir,
    config: f.config,
    startLayer,
    endLayer,
    cacheDir: `${f.root}/cache`,
    dtype: options.dtype ?? "float32",
    executionProvider: provider,
    threads: 1,
    maxContext: options.maxContext ?? 64,
    prefillChunk: options.prefillChunk,
  });
}

/** Token i of a generation: spread over the vocabulary, deterministic. */
function token(i: number, vocab: number): number {
  return (i * 37 + 5) % vocab;
}

async function checkDecode(
  f: Fixture,
  runner: GqaShardRunner,
  steps: number,
  tolerance: number,
): Promise<void> {
  const tokens = [...PROMPT];
  assertClose(
    logitsOf(await runner.step("r", { tokenIds: tokens })),
    lastLogits(f, tokens),
    tolerance,
    "prefill",
  );
  for (let i = 0; i < steps; i++) {
    tokens.push(token(i, f.config.vocabSize));
    assertClose(
      logitsOf(await runner.step("r", { tokenIds: [tokens.at(-1)!] })),
      lastLogits(f, tokens),
      tolerance,
      `decode at ${tokens.length}`,
    );
  }
  assert.equal(runner.cachedLength("r"), tokens.length);
}

const PROVIDERS: [
  ExecutionProvider,
  (name: string, fn: () => Promise<void>) => Deno.TestDefinition,
][] = [
  ["cpu", (name, fn) => ({ name, fn })],
  ["webgpu", webgpuTest],
];
const SPECS = [ARCHITECTURES[0], ARCHITECTURES[3], ARCHITECTURES[4]]; // llama, qwen2, qwen3

for (const [provider, test] of PROVIDERS) {
  for (const [name, spec] of SPECS) {
    Deno.test(
      test(`GqaShardRunner on ${provider}: prefill and ${DECODE_STEPS} decode steps of ${name} match the float64 reference`, async () => {
        await withCheckpoint({ ...spec, seed: 7 }, async (f) => {
          const runner = await load(f, provider, 0, f.config.numLayers - 1);
          try {
            assert.equal(runner.executionProvider, provider, runner.fallbackReason ?? "");
            await checkDecode(f, runner, DECODE_STEPS, FLOAT32_TOLERANCE);
            assert.equal(runner.cacheLocation("r"), provider === "webgpu" ? "gpu-buffer" : "cpu");
          } finally {
            await runner.dispose();
          }
        });
      }),
    );
  }

  const looser: [ShardDType, number][] = [
    ["q4", Q4_TOLERANCE],
    ["float16", provider === "webgpu" ? GPU_FLOAT16_TOLERANCE : GPU_FLOAT16_TOLERANCE / 2],
  ];
  for (const [dtype, tolerance] of looser) {
    Deno.test(
      test(`GqaShardRunner on ${provider}: ${dtype} weights with float16 activations stay near the reference`, async () => {
        await withCheckpoint({ ...ARCHITECTURES[4][1], seed: 7 }, async (f) => {
          const runner = await load(f, provider, 0, f.config.numLayers - 1, { dtype });
          try {
            await checkDecode(f, runner, 8, tolerance);
          } finally {
            await runner.dispose();
          }
        });
      }),
    );
  }

  Deno.test(
    test(`GqaShardRunner on ${provider}: a prompt in prefill slices, chained shards and a batch give the same as one run`, async () => {
      await withCheckpoint({ architecture: "llama", numLayers: 4, seed: 11 }, async (f) => {
        const whole = await load(f, provider, 0, 3);
        const first = await load(f, provider, 0, 1, { prefillChunk: 4 });
        const second = await load(f, provider, 2, 3);
        try {
          const want = logitsOf(await whole.step("a", { tokenIds: PROMPT }));
          const hidden = hiddenOf(await first.step("a", { tokenIds: PROMPT }));
          assert.equal(hidden.seq, PROMPT.length);
          assertClose(logitsOf(await second.step("a", hidden)), want, 1e-5, "sliced and chained");

          // Two requests decoded as one "batch" keep apart and match single steps.
          await whole.step("b", { tokenIds: PROMPT.slice(0, 3) });
          const [a, b] = await whole.stepBatch([
            { requestId: "a", input: { tokenIds: [9] } },
            { requestId: "b", input: { tokenIds: [9] } },
          ]);
          assertClose(logitsOf(a), lastLogits(f, [...PROMPT, 9]), FLOAT32_TOLERANCE, "request a");
          assertClose(
            logitsOf(b),
            lastLogits(f, [...PROMPT.slice(0, 3), 9]),
            FLOAT32_TOLERANCE,
            "request b",
          );
          assert.deepEqual(whole.requestIds().sort(), ["a", "b"]);
          assert.equal(whole.release("a"), true);
          assert.equal(whole.release("a"), false);
          assert.equal(whole.cachedLength("a"), 0);
          assert.equal(whole.cachedLength("b"), 4);
        } finally {
          await Promise.all([whole.dispose(), first.dispose(), second.dispose()]);
        }
      });
    }),
  );

  Deno.test(
    test(`GqaShardRunner on ${provider}: a 70-token prompt (past the 32 new tokens where lavapipe's attention kernel goes wrong) and its decode match the reference`, async () => {
      await withCheckpoint({ architecture: "llama", numLayers: 2, seed: 13 }, async (f) => {
        const runner = await load(f, provider, 0, 1, { maxContext: 128 });
        try {
          const tokens = Array.from({ length: 70 }, (_, i) => token(i + 100, f.config.vocabSize));
          assertClose(
            logitsOf(await runner.step("r", { tokenIds: tokens })),
            lastLogits(f, tokens),
            FLOAT32_TOLERANCE,
            "prefill",
          );
          for (const next of [3, 77]) {
            tokens.push(next);
            assertClose(
              logitsOf(await runner.step("r", { tokenIds: [next] })),
              lastLogits(f, tokens),
              FLOAT32_TOLERANCE,
              `decode at ${tokens.length}`,
            );
          }
        } finally {
          await runner.dispose();
        }
      });
    }),
  );

  Deno.test(
    test(`GqaShardRunner on ${provider}: a refused step leaves the cache as it was`, async () => {
      await withCheckpoint({ architecture: "llama", seed: 5 }, async (f) => {
        const runner = await load(f, provider, 0, f.config.numLayers - 1);
        try {
          await runner.step("r", { tokenIds: PROMPT });
          await assert.rejects(runner.step("r", { tokenIds: [f.config.vocabSize] }), RangeError);
          await assert.rejects(
            runner.step("r", { tokenIds: new Array(64).fill(1) }),
            /exceed the context of 64/,
          );
          assert.equal(runner.cachedLength("r"), PROMPT.length);
          assertClose(
            logitsOf(await runner.step("r", { tokenIds: [3] })),
            lastLogits(f, [...PROMPT, 3]),
            FLOAT32_TOLERANCE,
            "after the refusals",
          );
        } finally {
          await runner.dispose();
        }
      });
    }),
  );
}

Deno.test(
  webgpuTest(
    "GqaShardRunner on webgpu places every node of first, middle and last q4 shards on the WebGPU provider",
    async () => {
      await withCheckpoint(
        { architecture: "qwen3", headDim: 32, numLayers: 3, seed: 3 },
        async (f) => {
          for (const [start, end] of [[0, 0], [1, 1], [2, 2]]) {
            const runner = await load(f, "webgpu", start, end, { dtype: "q4" });
            try {
              const { providers } = runner.placement;
              assert.ok(providers.length > 0, "a placement was read");
              assert.deepEqual(
                offProvider(runner.placement, "WebGpuExecutionProvider"),
                [],
                `layers ${start}..${end}`,
              );
              assert.ok(
                (providers[0].ops.GroupQueryAttention ?? 0) === 1,
                JSON.stringify(providers),
              );
            } finally {
              await runner.dispose();
            }
          }
        },
      );
    },
  ),
);
