// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Engine benchmark: one node, all layers in one shard. For each (shape, dtype) it
 * prints prefill and decode tokens/s beside llama.cpp's figures for the same shape, time to
 * first token, cold load (graph conversion into a fresh shard cache), warm load (cache
 * hit), the shard's weight bytes and peak RSS against "peak RSS <= 1.2 x weights + 300 MB".
 *
 *   deno task bench:engine [--shapes smollm2-135m-like,llama-3.2-1b]
 *     [--dtypes float32,float16,q4] [--prompt 512] [--decode 128] [--threads 2] [--runs 1]
 *     [--execution-provider cpu|webgpu] [--cache-dir ~/.cache/exo-node-bench]
 *     [--json out.json] [--baseline old.json]
 *
 * With `--execution-provider webgpu` the shard runs as it does on a node with that flag
 * (the GroupQueryAttention graph, KV cache on the device), and the report says where ORT
 * placed its nodes. On Mesa's lavapipe (scripts/ci/webgpu_lavapipe.sh) WebGPU runs on the
 * CPU: those figures say the path works, not how fast a GPU is, and are labelled so.
 *
 * Random-weight checkpoints in the real shapes are written once under the cache dir.
 * Each configuration runs in two fresh child processes (this script in worker mode): one
 * converts into an empty shard cache (cold load, conversion peak RSS), the next loads from
 * that cache and runs (warm load, speed, serving peak RSS). Peak RSS is VmHWM from
 * /proc/self/status on Linux, else the largest sampled `Deno.memoryUsage().rss`.
 *
 * Decode is measured twice: after the prompt (what a chat reply costs), and from a
 * one-token prompt, the way llama-bench's tg128 decodes from an empty context; the ratio to
 * llama.cpp uses the second, which is the like-for-like figure.
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
import type { LoadedRunner } from "../lib/inference/shard_runner.ts";
import { loadRunner } from "../lib/inference/load_runner.ts";
import { type ExecutionProvider, missingProvider } from "../lib/inference/onnx/ort_session.ts";
import { describePlacement } from "../lib/inference/onnx/placement.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { argmax } from "../lib/inference/sampler/mod.ts";
import { loadModelConfig } from "../lib/model/mod.ts";
import { ensureRandomCheckpoint, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";
import { LLAMA_CPP, LLAMA_CPP_PRECISION, llamaCpp } from "./_llama_cpp.ts";

const MB = 1e6;
const RSS_SLACK_BYTES = 300 * MB;
const RSS_WEIGHT_FACTOR = 1.2;

/** What the converting child reports. */
interface ConvertResult {
  coldLoadMs: number;
  cacheHit: boolean;
  weightBytes: number;
  peakRssBytes: number;
}

/** What the running child reports. */
interface RunResult {
  warmLoadMs: number;
  cacheHit: boolean;
  /** The provider the session ran on (CPU after a fallback). */
  activeProvider: ExecutionProvider;
  /** Where ORT placed the shard's nodes, as one line. */
  placement: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Decoding `decode` tokens after a one-token prompt, as llama-bench's tg128. */
  emptyContextDecodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
  peakRssBytes: number;
}

/** One configuration's figures, as written to --json. */
interface BenchResult {
  shape: Shape;
  dtype: ShardDType;
  executionProvider: ExecutionProvider;
  activeProvider: ExecutionProvider;
  placement: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  emptyContextDecodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
  coldLoadMs: number;
  warmLoadMs: number;
  weightBytes: number;
  peakRssBytes: number;
  conversionPeakRssBytes: number;
  rssLimitBytes: number;
  rssPass: boolean;
}

// ---- measuring helpers ----

class PeakRss {
  #max = 0;
  #timer: ReturnType<typeof setInterval>;
  constructor() {
    this.#timer = setInterval(() => this.sample(), 50);
  }
  sample(): void {
    this.#max = Math.max(this.#max, Deno.memoryUsage().rss);
  }
  /** VmHWM on Linux (the kernel's own high-water mark), else the largest sample. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    try {
      const status = Deno.readTextFileSync("/proc/self/status");
      const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      if (match) return Number(match[1]) * 1024;
    } catch {
      // Not Linux: fall back to sampling.
    }
    return this.#max;
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await directoryBytes(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

// ---- worker mode (child processes) ----

interface WorkerArgs {
  modelDir: string;
  shardCache: string;
  dtype: ShardDType;
  provider: ExecutionProvider;
  threads: number;
  prompt: number;
  decode: number;
  runs: number;
}

async function loadShard(args: WorkerArgs): Promise<{ runner: LoadedRunner; ms: number }> {
  const config = await loadModelConfig(args.modelDir);
  const started = performance.now();
  const runner = await loadRunner({
    modelDir: args.modelDir,
    config,
    startLayer: 0,
    endLayer: config.numLayers - 1,
    cacheDir: args.shardCache,
    dtype: args.dtype,
    executionProvider: args.provider,
    threads: args.threads,
  });
  return { runner, ms: performance.now() - started };
}

async function convertWorker(args: WorkerArgs): Promise<ConvertResult> {
  const rss = new PeakRss();
  const { runner, ms } = await loadShard(args);
  const cacheHit = runner.cacheHit;
  await runner.dispose();
  return {
    coldLoadMs: ms,
    cacheHit,
    weightBytes: await directoryBytes(args.shardCache),
    peakRssBytes: rss.stop(),
  };
}

function logitsOf(output: Awaited<ReturnType<LoadedRunner["step"]>>): Float32Array {
  if (output.kind !== "logits") throw new TypeError("Cannot benchmark: the shard returned hidden");
  return output.logits;
}

async function runWorker(args: WorkerArgs): Promise<RunResult> {
  const rss = new PeakRss();
  const { runner, ms } = await loadShard(args);
  const vocab = runner.config.vocabSize;
  // A short throwaway request first, so one-time allocations are not charged to the runs.
  let token = argmax(logitsOf(await runner.step("warmup", { tokenIds: promptTokens(8, vocab) })));
  for (let i = 0; i < 2; i++) {
    token = argmax(logitsOf(await runner.step("warmup", { tokenIds: [token] })));
  }
  runner.release("warmup");

  const prefill: number[] = [];
  const decode: number[] = [];
  const emptyDecode: number[] = [];
  const ttft: number[] = [];
  /** Decodes args.decode tokens for request `id` from `first`; returns tokens/s. */
  const decodeRun = async (id: string, first: number): Promise<number> => {
    let next = first;
    const started = performance.now();
    for (let i = 0; i < args.decode; i++) {
      next = argmax(logitsOf(await runner.step(id, { tokenIds: [next] })));
    }
    return args.decode / ((performance.now() - started) / 1000);
  };
  for (let run = 0; run < args.runs; run++) {
    const id = `run-${run}`;
    const tokens = promptTokens(args.prompt, vocab);
    const started = performance.now();
    token = argmax(logitsOf(await runner.step(id, { tokenIds: tokens })));
    const firstToken = performance.now() - started;
    ttft.push(firstToken);
    prefill.push(args.prompt / (firstToken / 1000));
    decode.push(await decodeRun(id, token));
    runner.release(id);

    const emptyId = `empty-${run}`;
    token = argmax(logitsOf(await runner.step(emptyId, { tokenIds: promptTokens(1, vocab, run) })));
    emptyDecode.push(await decodeRun(emptyId, token));
    runner.release(emptyId);
  }
  const { cacheHit, executionProvider } = runner;
  const placement = describePlacement(runner.placement);
  await runner.dispose();
  return {
    warmLoadMs: ms,
    cacheHit,
    activeProvider: executionProvider,
    placement,
    prefillTokensPerSecond: median(prefill),
    decodeTokensPerSecond: median(decode),
    emptyContextDecodeTokensPerSecond: median(emptyDecode),
    timeToFirstTokenMs: median(ttft),
    peakRssBytes: rss.stop(),
  };
}

// ---- parent ----

async function spawnWorker(mode: "convert" | "run", args: WorkerArgs): Promise<unknown> {
  const resultFile = await Deno.makeTempFile({ prefix: "bench-engine-", suffix: ".json" });
  const root = new URL("..", import.meta.url).pathname;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--config",
        `${root}deno.json`,
        new URL(import.meta.url).pathname,
        "--worker",
        mode,
        "--result",
        resultFile,
        "--model-dir",
        args.modelDir,
        "--shard-cache",
        args.shardCache,
        "--dtypes",
        args.dtype,
        "--execution-provider",
        args.provider,
        "--threads",
        String(args.threads),
        "--prompt",
        String(args.prompt),
        "--decode",
        String(args.decode),
        "--runs",
        String(args.runs),
      ],
      cwd: root,
      stdout: "inherit",
      stderr: "inherit",
    });
    const status = await child.output();
    if (!status.success) throw new Error(`Cannot benchmark: ${mode} worker exited ${status.code}`);
    return JSON.parse(await Deno.readTextFile(resultFile));
  } finally {
    await Deno.remove(resultFile).catch(() => {});
  }
}

async function benchOne(
  shape: Shape,
  dtype: ShardDType,
  modelDir: string,
  cacheDir: string,
  opts: Omit<WorkerArgs, "modelDir" | "shardCache" | "dtype">,
): Promise<BenchResult> {
  // A fresh shard cache per configuration, so the first load is a guaranteed miss.
  await Deno.mkdir(`${cacheDir}/shards`, { recursive: true });
  const shardCache = await Deno.makeTempDir({
    dir: `${cacheDir}/shards`,
    prefix: `${shape}-${dtype}-${opts.provider}-`,
  });
  const args: WorkerArgs = { ...opts, modelDir, shardCache, dtype };
  try {
    const converted = await spawnWorker("convert", args) as ConvertResult;
    if (converted.cacheHit) throw new Error("Cannot benchmark: cold load hit the cache");
    const ran = await spawnWorker("run", args) as RunResult;
    if (!ran.cacheHit) throw new Error("Cannot benchmark: warm load missed the cache");
    const rssLimitBytes = RSS_WEIGHT_FACTOR * converted.weightBytes + RSS_SLACK_BYTES;
    return {
      shape,
      dtype,
      executionProvider: opts.provider,
      activeProvider: ran.activeProvider,
      placement: ran.placement,
      prefillTokensPerSecond: ran.prefillTokensPerSecond,
      decodeTokensPerSecond: ran.decodeTokensPerSecond,
      emptyContextDecodeTokensPerSecond: ran.emptyContextDecodeTokensPerSecond,
      timeToFirstTokenMs: ran.timeToFirstTokenMs,
      coldLoadMs: converted.coldLoadMs,
      warmLoadMs: ran.warmLoadMs,
      weightBytes: converted.weightBytes,
      peakRssBytes: ran.peakRssBytes,
      conversionPeakRssBytes: converted.peakRssBytes,
      rssLimitBytes,
      rssPass: ran.peakRssBytes <= rssLimitBytes,
    };
  } finally {
    // Converted shards are big (a 1B float32 shard is ~5 GB): keep only the checkpoints.
    await Deno.remove(shardCache, { recursive: true });
  }
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}

function change(now: number, before: number | undefined): string {
  if (before === undefined || before === 0) return "n/a";
  const pct = (now / before - 1) * 100;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
}

/**
 * What a provider's figures are: WebGPU on Mesa's lavapipe runs on the CPU, so its figures
 * show the GPU path works, not how fast a GPU is.
 */
function providerLabel(provider: ExecutionProvider): string {
  if (provider !== "webgpu") return provider;
  const icd = Deno.env.get("VK_DRIVER_FILES") ?? Deno.env.get("VK_ICD_FILENAMES") ?? "";
  return /lvp/.test(icd)
    ? "webgpu on lavapipe (Vulkan on the CPU: NOT GPU figures)"
    : "webgpu (adapter as Dawn found it)";
}

function printResults(results: BenchResult[], baseline: BenchResult[] | null): void {
  console.log("\nWhere ONNX Runtime ran each shard (from the load's profiled warm-up run)");
  console.log(table(
    ["shape", "dtype", "provider", "ran on", "placement"],
    results.map((r) => [
      r.shape,
      r.dtype,
      providerLabel(r.executionProvider),
      r.activeProvider,
      r.placement,
    ]),
  ));
  console.log(
    "\nSpeed (llama.cpp: llama-bench pp512/tg128 on this machine kind, scripts/_llama_cpp.ts;" +
      " ratio = ours / llama.cpp; decode ratio from the empty-context decode, like tg128)",
  );
  console.log(table(
    [
      "shape",
      "dtype",
      "prefill tok/s",
      "llama.cpp",
      "ratio",
      "decode after prompt",
      "decode from empty",
      "llama.cpp",
      "ratio",
    ],
    results.map((r) => {
      // The llama.cpp figures are CPU figures of this machine kind: no ratio for a GPU row.
      const ref = r.activeProvider === "cpu" ? llamaCpp(r.shape, r.dtype) : undefined;
      return [
        r.shape,
        `${r.dtype} (${LLAMA_CPP_PRECISION[r.dtype]})${
          r.activeProvider === "cpu" ? "" : ` on ${r.activeProvider}`
        }`,
        fixed(r.prefillTokensPerSecond),
        ref ? fixed(ref.prefill512) : "n/a",
        ref ? fixed(r.prefillTokensPerSecond / ref.prefill512, 2) : "n/a",
        fixed(r.decodeTokensPerSecond),
        fixed(r.emptyContextDecodeTokensPerSecond),
        ref ? fixed(ref.decode128) : "n/a",
        ref ? fixed(r.emptyContextDecodeTokensPerSecond / ref.decode128, 2) : "n/a",
      ];
    }),
  ));
  console.log("\nLoad and memory (MB = 10^6 bytes; target: peak RSS <= 1.2 x weights + 300 MB)");
  console.log(table(
    [
      "shape",
      "dtype",
      "TTFT ms",
      "cold load s",
      "warm load s",
      "weights MB",
      "peak RSS MB",
      "limit MB",
      "RSS",
      "convert RSS MB",
    ],
    results.map((r) => [
      r.shape,
      r.dtype,
      fixed(r.timeToFirstTokenMs, 0),
      fixed(r.coldLoadMs / 1000, 2),
      fixed(r.warmLoadMs / 1000, 2),
      fixed(r.weightBytes / MB, 0),
      fixed(r.peakRssBytes / MB, 0),
      fixed(r.rssLimitBytes / MB, 0),
      r.rssPass ? "pass" : "FAIL",
      fixed(r.conversionPeakRssBytes / MB, 0),
    ]),
  ));
  if (!baseline) return;
  console.log("\nChange vs baseline (+ is higher; higher is better for tok/s, worse for the rest)");
  console.log(table(
    [
      "shape",
      "dtype",
      "prefill",
      "decode",
      "decode empty",
      "TTFT",
      "cold load",
      "warm load",
      "peak RSS",
    ],
    results.map((r) => {
      const b = baseline.find((x) =>
        x.shape === r.shape && x.dtype === r.dtype &&
        // Reports from before --execution-provider ran on the CPU.
        (x.executionProvider ?? "cpu") === r.executionProvider
      );
      return [
        r.shape,
        r.dtype,
        change(r.prefillTokensPerSecond, b?.prefillTokensPerSecond),
        change(r.decodeTokensPerSecond, b?.decodeTokensPerSecond),
        change(r.emptyContextDecodeTokensPerSecond, b?.emptyContextDecodeTokensPerSecond),
        change(r.timeToFirstTokenMs, b?.timeToFirstTokenMs),
        change(r.coldLoadMs, b?.coldLoadMs),
        change(r.warmLoadMs, b?.warmLoadMs),
        change(r.peakRssBytes, b?.peakRssBytes),
      ];
    }),
  ));
}

const USAGE = "usage: deno task bench:engine [--shapes smollm2-135m-like,llama-3.2-1b] " +
  "[--dtypes float32,float16,q4] [--prompt 512] [--decode 128] [--threads 2] [--runs 1] " +
  "[--execution-provider cpu|coreml|webgpu] [--cache-dir DIR] [--json out.json] " +
  "[--baseline old.json]";

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shapes: { type: "string", default: SHAPES.join(",") },
      dtypes: { type: "string", default: DTYPES.join(",") },
      prompt: { type: "string", default: "512" },
      decode: { type: "string", default: "128" },
      threads: { type: "string", default: "2" },
      runs: { type: "string", default: "1" },
      "execution-provider": { type: "string", default: "cpu" },
      "cache-dir": { type: "string" },
      json: { type: "string" },
      baseline: { type: "string" },
      worker: { type: "string" },
      result: { type: "string" },
      "model-dir": { type: "string" },
      "shard-cache": { type: "string" },
    },
  });
  const dtypes = listOf(values.dtypes, DTYPES, "dtype");
  const shapes = listOf(values.shapes, SHAPES, "shape");
  const [provider, ...more] = listOf(
    values["execution-provider"],
    ["cpu", "coreml", "webgpu"] as const,
    "execution provider",
  );
  if (more.length > 0) throw new RangeError("Cannot benchmark: give one --execution-provider");
  const missing = missingProvider(provider);
  if (missing !== null) throw new RangeError(`Cannot benchmark: ${missing}`);
  const opts = {
    provider,
    threads: positive(values.threads, "threads"),
    prompt: positive(values.prompt, "prompt"),
    decode: positive(values.decode, "decode"),
    runs: positive(values.runs, "runs"),
  };
  return { values, dtypes, shapes, opts };
}

async function main(): Promise<void> {
  const { values, dtypes, opts, shapes } = parseOrExit("bench:engine", USAGE, parseOptions);

  if (values.worker !== undefined) {
    const args: WorkerArgs = {
      ...opts,
      modelDir: values["model-dir"]!,
      shardCache: values["shard-cache"]!,
      dtype: dtypes[0],
    };
    const result = values.worker === "convert" ? await convertWorker(args) : await runWorker(args);
    await Deno.writeTextFile(values.result!, JSON.stringify(result));
    return;
  }

  const cacheDir = values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench`;
  const baseline = values.baseline
    ? (JSON.parse(await Deno.readTextFile(values.baseline)).results as BenchResult[])
    : null;
  console.log(
    `bench:engine: ${shapes.join(",")} x ${dtypes.join(",")} on ${providerLabel(opts.provider)}, ` +
      `prompt ${opts.prompt}, decode ${opts.decode}, ${opts.threads} threads, ${opts.runs} ` +
      `run(s), cache ${cacheDir}`,
  );
  console.log(
    `Machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cpus; ` +
      "figures are noisy on a shared machine, compare back to back",
  );

  const results: BenchResult[] = [];
  for (const shape of shapes) {
    const started = performance.now();
    const checkpoint = await ensureRandomCheckpoint(
      `${cacheDir}/checkpoints/${shape}`,
      realShapeSpecs[shape],
    );
    console.log(`${shape}: checkpoint ready in ${fixed((performance.now() - started) / 1000)} s`);
    for (const dtype of dtypes) {
      const result = await benchOne(shape, dtype, checkpoint.dir, cacheDir, opts);
      console.log(
        `${shape} ${dtype}: prefill ${fixed(result.prefillTokensPerSecond)} tok/s, decode ` +
          `${fixed(result.decodeTokensPerSecond)} tok/s (from empty ` +
          `${fixed(result.emptyContextDecodeTokensPerSecond)}), cold ${
            fixed(result.coldLoadMs / 1000)
          } s`,
      );
      results.push(result);
      if (values.json) await writeJson(values.json, opts, results);
    }
  }
  printResults(results, baseline);
  if (values.json) console.log(`\nWrote ${values.json}`);
}

async function writeJson(path: string, opts: object, results: BenchResult[]): Promise<void> {
  await writeReport(path, {
    options: opts,
    reference: { source: "llama-bench pp512/tg128 on this machine kind", figures: LLAMA_CPP },
    results,
  });
}

if (import.meta.main) await main();
