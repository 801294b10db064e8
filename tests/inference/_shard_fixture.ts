/**
 * What the shard runner tests share: a random checkpoint with its float64 reference, the
 * tolerances by dtype, and the closeness check.
 * @module
 */
import assert from "node:assert/strict";
import { TOLERANCE } from "../../lib/inference/agreement.ts";
import type { ModelConfig } from "../../lib/model/model_config.ts";
import {
  type ShardOutput,
  ShardRunner,
  type ShardRunnerOptions,
} from "../../lib/inference/shard_runner.ts";
import { type CheckpointSpec, writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import {
  loadReferenceWeights,
  referenceForward,
  type ReferenceWeights,
} from "../reference/llama_reference.ts";

/** float32 engine vs float64 reference: max abs diff over max |logit| (see agreement.ts). */
export const FLOAT32_TOLERANCE = TOLERANCE.float32;
/** float16 weights, activations and KV cache on the CPU: measured 1.2e-3 to 1.7e-3 here. */
export const FLOAT16_TOLERANCE = TOLERANCE.float16 / 2;
/** 4-bit weights with int8 activations; the measurements are in agreement.ts. */
export const Q4_TOLERANCE = TOLERANCE.q4;

export interface Fixture {
  root: string;
  dir: string;
  config: ModelConfig;
  reference: ReferenceWeights;
}

export async function withCheckpoint(spec: CheckpointSpec, body: (f: Fixture) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "shard_runner_test_" });
  try {
    const { dir, config } = await writeRandomCheckpoint(`${root}/model`, spec);
    const reference = await loadReferenceWeights(dir);
    await body({ root, dir, config, reference });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

export function logitsOf(output: ShardOutput): Float32Array {
  assert.equal(output.kind, "logits");
  return (output as { logits: Float32Array }).logits;
}

export function hiddenOf(output: ShardOutput): { hidden: Float32Array; seq: number } {
  assert.equal(output.kind, "hidden");
  return output as { hidden: Float32Array; seq: number };
}

/** Asserts max |got - want| <= tolerance × max |want|. */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tolerance: number,
  what: string,
) {
  assert.equal(got.length, want.length, `${what}: length`);
  let maxDiff = 0;
  let maxWant = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    maxWant = Math.max(maxWant, Math.abs(want[i]));
  }
  assert.ok(maxWant > 0, `${what}: reference is all zeros`);
  assert.ok(
    maxDiff <= tolerance * maxWant,
    `${what}: max diff ${maxDiff} exceeds ${tolerance} x ${maxWant}`,
  );
}

export function lastLogits(f: Fixture, tokens: number[]): Float64Array {
  const all = referenceForward(f.reference, f.config, tokens);
  return all[all.length - 1];
}

export const PROMPT = [1, 17, 42, 99, 7, 250];
export const DECODED = [33, 5, 380, 64, 12];

export const ARCHITECTURES: [string, CheckpointSpec][] = [
  ["llama untied", { architecture: "llama" }],
  ["llama tied with llama3 rope scaling", {
    architecture: "llama",
    tieWordEmbeddings: true,
    ropeScaling: {
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 256,
    },
  }],
  ["mistral", { architecture: "mistral", numKvHeads: 1 }],
  ["qwen2 with q/k/v biases", { architecture: "qwen2", tieWordEmbeddings: true }],
  ["qwen3 with q/k norms", { architecture: "qwen3", headDim: 32 }],
];

/**
 * Loads a CPU ShardRunner over all of the fixture's layers: float32, one thread, a context
 * of 64, unless `options` says otherwise.
 */
export function loadWholeShard(
  f: Fixture,
  options: Partial<ShardRunnerOptions> = {},
): Promise<ShardRunner> {
  return ShardRunner.load({
    modelDir: f.dir,
    config: f.config,
    startLayer: 0,
    endLayer: f.config.numLayers - 1,
    cacheDir: `${f.root}/cache`,
    dtype: "float32",
    executionProvider: "cpu",
    threads: 1,
    maxContext: 64,
    ...options,
  });
}
