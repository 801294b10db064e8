// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Batched decode benchmark: one node, all layers in one shard, CPU. For each (shape, dtype)
 * it prefills as many requests as the largest batch to `--context` tokens, then times
 * decode steps at each batch size: batch 1 through `ShardRunner.step` (what a lone request
 * gets), larger batches through `ShardRunner.stepBatch` (one session call per step). It
 * prints aggregate decode tokens/s and the speedup over batch 1.
 *
 *   deno task bench:batch [--shape smollm2-135m-like,llama-3.2-1b] [--dtype q4,float32]
 *     [--batches 1,2,4,8] [--context 128] [--steps 16] [--rounds 3] [--threads 2]
 *     [--prepack on|off] [--cache-dir ~/.cache/exo-node-bench] [--json out.json]
 *
 * `--prepack` overrides ShardRunner's default (weights repacked for all but float32).
 *
 * Random-weight checkpoints in the real shapes are written once under the cache dir, and
 * built shard graphs are kept under `<cache-dir>/batch-shards`. Each batch size is measured
 * once per round; the median and the fastest round are kept. Rounds interleave the sizes,
 * so drift on a shared machine hits them alike, and the fastest round is the least disturbed. Each batch takes the requests holding the fewest tokens, so
 * contexts grow evenly (the printed range is the context the timed steps saw).
 * @module
 */
import { parseArgs } from "node:util";
import { parseOrExit } from "./_usage.ts";
import {
  DTYPES,
  listOf,
  median,
  positive,
  promptTokens,
  type Shape,
  SHAPES,
  table,
  writeReport,
} from "./_bench_util.ts";
import { ShardRunner } from "../lib/inference/shard_runner.ts";
import type { ShardOutput } from "../lib/inference/shard_input.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { argmax } from "../lib/inference/sampler/mod.ts";
import { loadModelConfig } from "../lib/model/mod.ts";
import { ensureRandomCheckpoint, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";

const WARMUP_STEPS = 2;

/** One batch size's figures, as written to --json. */
interface BatchResult {
  shape: Shape;
  dtype: ShardDType;
  batch: number;
  /** Aggregate decode tokens/s (batch × steps / time), median over rounds. */
  tokensPerSecond: number;
  /** Over the smallest batch's tokens/s (batch 1 by default). */
  speedup: number;
  /** Milliseconds per step (one token for each request in the batch), median. */
  stepMs: number;
  /** The fastest round's tokens/s: the least disturbed by other work on a shared machine. */
  bestTokensPerSecond: number;
  /** The fastest round's speedup over the smallest batch's fastest round. */
  bestSpeedup: number;
  /** Shortest and longest context the timed steps saw. */
  contextMin: number;
  contextMax: number;
}

interface Options {
  shapes: Shape[];
  dtypes: ShardDType[];
  batches: number[];
  context: number;
  steps: number;
  rounds: number;
  threads: number;
  /** Whether weights are repacked at load; undefined keeps ShardRunner's default. */
  prepack: boolean | undefined;
}

function logitsOf(output: ShardOutput): Float32Array {
  if (output.kind !== "logits") throw new TypeError("Cannot benchmark: the shard returned hidden");
  return output.logits;
}

/** A benchmark request: its id and the next token to feed. */
interface Request {
  id: string;
  token: number;
}

/** Runs `count` decode steps for `batch`; returns the elapsed ms. */
async function decode(runner: ShardRunner, batch: Request[], count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    if (batch.length === 1) {
      const [request] = batch;
      request.token = argmax(
        logitsOf(await runner.step(request.id, { tokenIds: [request.token] })),
      );
      continue;
    }
    const outputs = await runner.stepBatch(
      batch.map(({ id, token }) => ({ requestId: id, input: { tokenIds: [token] } })),
    );
    outputs.forEach((output, b) => batch[b].token = argmax(logitsOf(output)));
  }
  return performance.now() - started;
}

async function benchOne(
  shape: Shape,
  dtype: ShardDType,
  modelDir: string,
  shardCache: string,
  options: Options,
): Promise<BatchResult[]> {
  const config = await loadModelConfig(modelDir);
  const loadStarted = performance.now();
  const runner = await ShardRunner.load({
    modelDir,
    config,
    startLayer: 0,
    endLayer: config.numLayers - 1,
    cacheDir: shardCache,
    dtype,
    executionProvider: "cpu",
    threads: options.threads,
    prepackWeights: options.prepack,
  });
  try {
    console.log(
      `${shape} ${dtype}: loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s` +
        `${runner.cacheHit ? " (cached graph)" : ""}`,
    );
    const requests: Request[] = [];
    const prefillStarted = performance.now();
    for (let r = 0; r < Math.max(...options.batches); r++) {
      const id = `r${r}`;
      const prompt = promptTokens(options.context, config.vocabSize, r + 1);
      requests.push({ id, token: argmax(logitsOf(await runner.step(id, { tokenIds: prompt }))) });
    }
    console.log(
      `${shape} ${dtype}: prefilled ${requests.length} x ${options.context} tokens in ${
        ((performance.now() - prefillStarted) / 1000).toFixed(1)
      } s`,
    );

    const stepMs = new Map<number, number[]>(options.batches.map((b) => [b, []]));
    const contextRange = new Map<number, [number, number]>();
    for (let round = 0; round < options.rounds; round++) {
      for (const size of options.batches) {
        // The requests holding the fewest tokens, so contexts grow evenly.
        const batch = [...requests]
          .sort((a, b) => runner.cachedLength(a.id) - runner.cachedLength(b.id))
          .slice(0, size);
        await decode(runner, batch, WARMUP_STEPS);
        const lengths = batch.map((r) => runner.cachedLength(r.id));
        const [lo, hi] = contextRange.get(size) ?? [Infinity, 0];
        contextRange.set(size, [
          Math.min(lo, ...lengths),
          Math.max(hi, ...lengths.map((length) => length + options.steps)),
        ]);
        const ms = await decode(runner, batch, options.steps);
        stepMs.get(size)!.push(ms / options.steps);
      }
    }
    const smallest = options.batches[0];
    const baseline = smallest * 1000 / median(stepMs.get(smallest)!);
    const bestBaseline = smallest * 1000 / Math.min(...stepMs.get(smallest)!);
    return options.batches.map((batch) => {
      const ms = median(stepMs.get(batch)!);
      const best = batch * 1000 / Math.min(...stepMs.get(batch)!);
      const [lo, hi] = contextRange.get(batch)!;
      return {
        shape,
        dtype,
        batch,
        tokensPerSecond: batch * 1000 / ms,
        speedup: batch * 1000 / ms / baseline,
        stepMs: ms,
        bestTokensPerSecond: best,
        bestSpeedup: best / bestBaseline,
        contextMin: lo,
        contextMax: hi,
      };
    });
  } finally {
    await runner.dispose();
  }
}

function prepackOf(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "on" || value === "off") return value === "on";
  throw new RangeError(`Cannot benchmark: --prepack must be on or off, got ${value}`);
}

const USAGE = "usage: deno task bench:batch [--shape smollm2-135m-like,llama-3.2-1b] " +
  "[--dtype q4,float32,float16] [--batches 1,2,4,8] [--context 128] [--steps 16] " +
  "[--rounds 3] [--threads 2] [--prepack on|off] [--cache-dir DIR] [--json out.json]";

function parseOptions(): { options: Options; cacheDir: string; json: string | undefined } {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shape: { type: "string", default: SHAPES.join(",") },
      dtype: { type: "string", default: "q4" },
      batches: { type: "string", default: "1,2,4,8" },
      context: { type: "string", default: "128" },
      steps: { type: "string", default: "16" },
      rounds: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
      prepack: { type: "string" },
      "cache-dir": { type: "string" },
      json: { type: "string" },
    },
  });
  const batches = values.batches.split(",").map((b) => positive(b.trim(), "batches"))
    .sort((a, b) => a - b);
  if (new Set(batches).size !== batches.length) {
    throw new RangeError(`Cannot benchmark: --batches repeats a size: ${values.batches}`);
  }
  return {
    options: {
      shapes: listOf(values.shape, SHAPES, "shape"),
      dtypes: listOf(values.dtype, DTYPES, "dtype"),
      batches,
      context: positive(values.context, "context"),
      steps: positive(values.steps, "steps"),
      rounds: positive(values.rounds, "rounds"),
      threads: positive(values.threads, "threads"),
      prepack: prepackOf(values.prepack),
    },
    cacheDir: values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench`,
    json: values.json,
  };
}

async function main(): Promise<void> {
  const { options, cacheDir, json } = parseOrExit("bench:batch", USAGE, parseOptions);
  console.log(
    `bench:batch: ${options.shapes.join(",")} x ${options.dtypes.join(",")}, batches ` +
      `${options.batches.join(",")}, context ${options.context}, ${options.steps} steps x ` +
      `${options.rounds} rounds, ${options.threads} threads, prepack ${
        options.prepack ?? "default"
      }, ` +
      `cache ${cacheDir}`,
  );
  console.log(
    `Machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cpus; ` +
      "figures are noisy on a shared machine, compare back to back",
  );
  const results: BatchResult[] = [];
  for (const shape of options.shapes) {
    const checkpoint = await ensureRandomCheckpoint(
      `${cacheDir}/checkpoints/${shape}`,
      realShapeSpecs[shape],
    );
    for (const dtype of options.dtypes) {
      const shardCache = `${cacheDir}/batch-shards/${shape}-${dtype}`;
      for (const result of await benchOne(shape, dtype, checkpoint.dir, shardCache, options)) {
        console.log(
          `${shape} ${dtype} batch ${result.batch}: ${result.tokensPerSecond.toFixed(1)} tok/s ` +
            `(${result.speedup.toFixed(2)}x), ${result.stepMs.toFixed(1)} ms/step; best ` +
            `${result.bestTokensPerSecond.toFixed(1)} tok/s (${result.bestSpeedup.toFixed(2)}x)`,
        );
        results.push(result);
      }
      if (json) await writeJson(json, options, results);
    }
  }
  console.log(
    "\nAggregate decode tokens/s (speedup = over batch 1; median of rounds, and the fastest round)",
  );
  console.log(table(
    [
      "shape",
      "dtype",
      "batch",
      "context",
      "ms/step",
      "tok/s",
      "speedup",
      "best tok/s",
      "best speedup",
    ],
    results.map((r) => [
      r.shape,
      r.dtype,
      String(r.batch),
      `${r.contextMin}..${r.contextMax}`,
      r.stepMs.toFixed(1),
      r.tokensPerSecond.toFixed(1),
      `${r.speedup.toFixed(2)}x`,
      r.bestTokensPerSecond.toFixed(1),
      `${r.bestSpeedup.toFixed(2)}x`,
    ]),
  ));
  if (json) console.log(`\nWrote ${json}`);
}

async function writeJson(path: string, options: Options, results: BatchResult[]): Promise<void> {
  await writeReport(path, {
    options,
    results,
  });
}

if (import.meta.main) await main();
