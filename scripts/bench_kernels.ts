// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Kernel ceiling: how long onnxruntime's matrix kernels alone take per decoded token, next
 * to llama.cpp's time for a whole token of the same shape and precision. For each (shape,
 * dtype) it builds a graph holding only a decode step's projections (per layer q|k|v, o,
 * gate|up and down; then the LM head), emitted by the shard graph's own LinearEmitter with
 * the same session options as a shard, and times one-token runs of it. Two Slice nodes a
 * layer connect the projections' widths; there is no attention, norm or activation.
 *
 * If these kernels alone take about as long as llama.cpp's whole token, the engine cannot
 * come within 10% of llama.cpp's decode on this runtime, whatever the rest of the graph does.
 *
 *   deno task bench:kernels [--shapes smollm2-135m-like,llama-3.2-1b]
 *     [--dtypes float32,float16,q4] [--threads 2] [--runs 50]
 *     [--cache-dir ~/.cache/exo-node-bench] [--json out.json]
 * @module
 */
import { parseArgs } from "node:util";
import { parseOrExit } from "./_usage.ts";
import {
  DTYPES,
  listOf,
  median,
  positive,
  type Shape,
  SHAPES,
  table,
  writeReport,
} from "./_bench_util.ts";
import { FIXED_LLAMA_CPP_LABEL, LLAMA_CPP_PRECISION, llamaCpp } from "./_llama_cpp.ts";
import { GraphBuilder } from "../lib/inference/onnx/graph_builder.ts";
import { LinearEmitter } from "../lib/inference/onnx/linear_emitter.ts";
import { ONNX_DATA_TYPES } from "../lib/inference/onnx/onnx_model.ts";
import { ort } from "../lib/inference/onnx/ort_runtime.ts";
import { sessionOptions } from "../lib/inference/onnx/ort_session.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { prepacksWeights } from "../lib/inference/shard_runner.ts";
import { type CheckpointSpec, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";
import { SeededRandom } from "../tests/fixtures/seeded_random.ts";

const WARMUP_RUNS = 5;
/** The engine issue's target: decode within 10% of llama.cpp. */
const TARGET_FRACTION = 0.9;

/** One configuration's figures, as written to --json. */
export interface KernelResult {
  shape: Shape;
  dtype: ShardDType;
  /** Median time of one run of the projections-only graph (one token). */
  projectionsMs: number;
  /** Fastest run. */
  fastestMs: number;
  weightBytes: number;
}

const int = (value: number) => ({ kind: "int", value }) as const;

/**
 * `n` floats uniform with standard deviation `std`, the same for the same seed. A
 * projection's weights take 1/√inDim, so each keeps its input's magnitude and every
 * projection of the chain sees activations of a real step's size (unit RMS, as after a
 * norm), not ones shrunk towards zero.
 */
function randomWeights(n: number, seed: number, std: number): Float32Array {
  const out = new Float32Array(n);
  new SeededRandom(seed).fillUniform(out, 0, std * Math.sqrt(3));
  return out;
}

/** The sizes a projection graph needs; the real shapes give every one. */
type Dims = Required<
  Pick<
    CheckpointSpec,
    | "hiddenSize"
    | "numLayers"
    | "numHeads"
    | "numKvHeads"
    | "headDim"
    | "intermediateSize"
    | "vocabSize"
  >
>;

function dimsOf(shape: Shape): Dims {
  const spec = realShapeSpecs[shape];
  const { hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize } =
    spec;
  const dims = {
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize,
    vocabSize,
  };
  for (const [name, value] of Object.entries(dims)) {
    if (value === undefined) throw new TypeError(`Cannot benchmark: ${shape} has no ${name}`);
  }
  return dims as Dims;
}

/** Writes the projections-only graph of `spec` at `dtype` into `dir`; returns its path. */
function buildProjections(spec: Dims, dtype: ShardDType, dir: string): string {
  const { hiddenSize: hidden, numHeads, numKvHeads, headDim, intermediateSize: inter } = spec;
  const builder = new GraphBuilder(`${dir}/kernels.onnx.data`);
  try {
    const linear = new LinearEmitter(builder, dtype);
    const half = dtype === "float16";
    let seed = 1;
    const project = (x: string, name: string, outDim: number, inDim: number) =>
      linear.emit(
        x,
        name,
        randomWeights(outDim * inDim, seed++, 1 / Math.sqrt(inDim)),
        outDim,
        inDim,
      );
    const leading = (x: string, name: string, width: number) =>
      builder.node1("Slice", [
        x,
        builder.int64(`${name}.starts`, [0]),
        builder.int64(`${name}.ends`, [width]),
        builder.int64(`${name}.axes`, [-1]),
      ]);
    let x = builder.input("x", "float32", [1, 1, hidden]);
    if (half) {
      x = builder.node1("Cast", [x], { attributes: { to: int(ONNX_DATA_TYPES.float16) } });
    }
    const qkvWidth = (numHeads + 2 * numKvHeads) * headDim;
    for (let layer = 0; layer < spec.numLayers; layer++) {
      const p = `layer${layer}.`;
      const qkv = project(x, `${p}qkv`, qkvWidth, hidden);
      const attention = leading(qkv, `${p}q`, numHeads * headDim);
      const o = project(attention, `${p}o`, hidden, numHeads * headDim);
      const gateUp = project(o, `${p}gate_up`, 2 * inter, hidden);
      x = project(leading(gateUp, `${p}gate`, inter), `${p}down`, hidden, inter);
    }
    let logits = project(x, "lm_head", spec.vocabSize, hidden);
    if (half) {
      logits = builder.node1("Cast", [logits], {
        attributes: { to: int(ONNX_DATA_TYPES.float32) },
      });
    }
    builder.node("Identity", [logits], { outputs: ["logits"] });
    builder.output("logits", "float32", [1, 1, spec.vocabSize]);
    const modelPath = `${dir}/kernels.onnx`;
    builder.writeModel(modelPath, `exo-node bench:kernels ${dtype}`);
    return modelPath;
  } finally {
    builder.close();
  }
}

/**
 * Builds the projections-only graph of a shape at a dtype in a temporary directory under
 * `opts.cacheDir` and times `opts.runs` one-token runs (after a warm-up) on the CPU.
 */
export async function measureProjections(
  shape: Shape,
  dtype: ShardDType,
  opts: { threads: number; runs: number; cacheDir: string },
): Promise<KernelResult> {
  await Deno.mkdir(`${opts.cacheDir}/kernels`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${opts.cacheDir}/kernels`, prefix: `${shape}-` });
  try {
    const spec = dimsOf(shape);
    const modelPath = buildProjections(spec, dtype, dir);
    const weightBytes = (await Deno.stat(`${dir}/kernels.onnx.data`)).size;
    const options = sessionOptions(["cpu"], opts.threads, {
      prepackWeights: prepacksWeights(dtype),
    });
    // Should the activations still drift towards zero, denormal floats would multiply many
    // times slower on x86 (weights of ±0.02 once made float32 take 68 ms a token against a
    // whole step's 35 ms): flush them to zero, as a real model never has them.
    const extra = options.extra as { session: Record<string, string> };
    extra.session = { ...extra.session, set_denormal_as_zero: "1" };
    const session = await ort.InferenceSession.create(modelPath, options);
    try {
      const feeds = {
        x: new ort.Tensor("float32", randomWeights(spec.hiddenSize, 7, 1), [1, 1, spec.hiddenSize]),
      };
      for (let i = 0; i < WARMUP_RUNS; i++) await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        const started = performance.now();
        await session.run(feeds);
        times.push(performance.now() - started);
      }
      return {
        shape,
        dtype,
        projectionsMs: median(times),
        fastestMs: Math.min(...times),
        weightBytes,
      };
    } finally {
      await session.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function printResults(results: KernelResult[]): void {
  console.log(
    "\nProjections only, one token (llama.cpp: llama-bench tg128, " + FIXED_LLAMA_CPP_LABEL + "; " +
      `"left" = time per token at ${TARGET_FRACTION * 100}% of llama.cpp's speed minus the ` +
      "projections: what every other op of a step would have to fit in)",
  );
  console.log(table(
    [
      "shape",
      "dtype",
      "weights MB",
      "projections ms",
      "fastest ms",
      "ceiling tok/s",
      "llama.cpp tok/s",
      "llama.cpp ms",
      "left ms",
    ],
    results.map((r) => {
      const ref = llamaCpp(r.shape, r.dtype);
      const budget = ref ? 1000 / (TARGET_FRACTION * ref.decode128) : undefined;
      return [
        r.shape,
        `${r.dtype} (${LLAMA_CPP_PRECISION[r.dtype]})`,
        (r.weightBytes / 1e6).toFixed(0),
        r.projectionsMs.toFixed(2),
        r.fastestMs.toFixed(2),
        (1000 / r.projectionsMs).toFixed(1),
        ref ? ref.decode128.toFixed(1) : "n/a",
        ref ? (1000 / ref.decode128).toFixed(2) : "n/a",
        budget === undefined ? "n/a" : (budget - r.projectionsMs).toFixed(2),
      ];
    }),
  ));
}

const USAGE = "usage: deno task bench:kernels [--shapes smollm2-135m-like,llama-3.2-1b] " +
  "[--dtypes float32,float16,q4] [--threads 2] [--runs 50] [--cache-dir DIR] [--json out.json]";

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shapes: { type: "string", default: SHAPES.join(",") },
      dtypes: { type: "string", default: DTYPES.join(",") },
      threads: { type: "string", default: "2" },
      runs: { type: "string", default: "50" },
      "cache-dir": { type: "string" },
      json: { type: "string" },
    },
  });
  return {
    shapes: listOf(values.shapes, SHAPES, "shape"),
    dtypes: listOf(values.dtypes, DTYPES, "dtype"),
    threads: positive(values.threads, "threads"),
    runs: positive(values.runs, "runs"),
    cacheDir: values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench`,
    json: values.json,
  };
}

async function main(): Promise<void> {
  const opts = parseOrExit("bench:kernels", USAGE, parseOptions);
  console.log(
    `bench:kernels: ${opts.shapes.join(",")} x ${opts.dtypes.join(",")}, ${opts.threads} ` +
      `threads, ${opts.runs} runs; ${Deno.build.target}, ${navigator.hardwareConcurrency} cpus`,
  );
  const results: KernelResult[] = [];
  for (const shape of opts.shapes) {
    for (const dtype of opts.dtypes) {
      const result = await measureProjections(shape, dtype, opts);
      console.log(
        `${shape} ${dtype}: projections ${result.projectionsMs.toFixed(2)} ms per token ` +
          `(${(1000 / result.projectionsMs).toFixed(1)} tok/s ceiling)`,
      );
      results.push(result);
      if (opts.json) {
        await writeReport(opts.json, {
          options: { threads: opts.threads, runs: opts.runs },
          results,
        });
      }
    }
  }
  printResults(results);
  if (opts.json) console.log(`\nWrote ${opts.json}`);
}

if (import.meta.main) await main();
