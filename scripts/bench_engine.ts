// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Engine benchmark: one node, all layers in one shard. For each (shape, dtype) it
 * prints prefill and decode tokens/s beside llama.cpp's for the same shape, time to
 * first token, cold load (graph conversion into a fresh shard cache), warm load (cache
 * hit), the shard's weight bytes and peak RSS against "peak RSS <= 1.2 x weights + 300 MB".
 *
 *   deno task bench:engine [--shapes smollm2-135m-like,llama-3.2-1b]
 *     [--dtypes float32,float16,q4] [--prompt 512] [--decode 128] [--long 1000]
 *     [--threads 2] [--runs 1] [--no-kernels] [--profile] [--vs-llama-cpp]
 *     [--llama-cpp llama-bench|node-llama-cpp] [--llama-bench PATH]
 *     [--execution-provider cpu|webgpu] [--cache-dir ~/.cache/exo-node-bench]
 *     [--json out.json] [--baseline old.json]
 *
 * With `--vs-llama-cpp`, llama.cpp runs in the same run on the same weights: the random
 * checkpoint is also written as GGUF (F32/F16/Q4_0, scripts/_llama_cpp_runner.ts) and
 * measured by llama.cpp's own `llama-bench` with our thread count: built once from the
 * llama.cpp source in node-llama-cpp's npm package and cached under the cache dir
 * (scripts/_llama_bench_build.ts; ~15 min on 2 cores; a failed build stops the run and says
 * what to install), or the binary given with `--llama-bench PATH`. `--llama-cpp
 * node-llama-cpp` measures through node-llama-cpp's generation loop instead, a weaker anchor
 * (its per-call overhead) that the report labels FALLBACK. Rounds alternate ours and
 * llama.cpp's (who goes first alternates too), and the ratio is the median of the paired
 * per-round ratios. Before measuring, each shape's F32 GGUF is checked to be our model
 * through node-llama-cpp (installed from npm on first use, scripts/_node_llama_cpp.ts):
 * llama.cpp's next-token log-probabilities along our float32 greedy continuation of a
 * 16-token prompt must give the same greedy tokens (scripts/_llama_cpp_check.ts). Without
 * the flag, or when node-llama-cpp was asked for and cannot run, the llama.cpp columns hold
 * fixed figures from an earlier day (scripts/_llama_cpp.ts), and the output says so.
 *
 * With `--execution-provider webgpu` the shard runs as it does on a node with that flag
 * (the GroupQueryAttention graph, KV cache on the device), and the report says where ORT
 * placed its nodes. On Mesa's lavapipe (scripts/ci/webgpu_lavapipe.sh) WebGPU runs on the
 * CPU: those figures say the path works, not how fast a GPU is, and are labelled so.
 *
 * Random-weight checkpoints in the real shapes are written once under the cache dir.
 * Each configuration runs in fresh child processes (scripts/_engine_worker.ts): one
 * converts into an empty shard cache (cold load, conversion peak RSS), then each round
 * loads from that cache and runs (warm load, speed, serving peak RSS). Peak RSS is VmHWM
 * from /proc/self/status on Linux, else the largest sampled `Deno.memoryUsage().rss`.
 *
 * Decode is measured twice: after the prompt (what a chat reply costs), and from a
 * one-token prompt, the way llama-bench's tg decodes from an empty context; the ratio to
 * llama.cpp uses the second, which is the like-for-like figure. The generation after the
 * prompt goes on to `--long` tokens with every step timed (p99 and the slowest step: a KV
 * buffer that grows must not stall one), and resident memory is read once the shard is
 * loaded and again at the end, against the target.
 *
 * Each round also times the CPU shard's projection kernels alone (bench:kernels' graph, in
 * its own process; `--no-kernels` skips it): a decode step over its projections, paired
 * round by round, is how much the rest of the graph costs (target <= 1.15). Each round
 * also times ORT's fewest-node form of the shard, the fused GroupQueryAttention graph in
 * float32 (scripts/_engine_worker.ts floorWorker): the step ORT itself allows here, so a
 * target below it is onnxruntime's limit, not the graph's.
 *
 * With `--profile`, one more process decodes after the prompt and from an empty context
 * with ORT's profiler on, and the report shows where a step's time goes in each: per op type, its nodes and kernel time,
 * and the time outside any kernel (ORT moving between nodes, feeds and fetches).
 * @module
 */
import { parseArgs } from "node:util";
import { parseOrExit } from "./_usage.ts";
import {
  busyMachineWarning,
  DTYPES,
  listOf,
  median,
  positive,
  promptTokens,
  type Shape,
  SHAPES,
  writeReport,
} from "./_bench_util.ts";
import {
  type ConvertResult,
  convertWorker,
  emptyContextToken,
  type FloorResult,
  floorWorker,
  type ProfileResult,
  profileWorker,
  type RunResult,
  runWorker,
  VERIFY,
  type VerifyResult,
  verifyWorker,
  type WorkerArgs,
} from "./_engine_worker.ts";
import {
  type BenchResult,
  describeCheck,
  fixedLlamaCpp,
  type LlamaCppReport,
  measuredLlamaCpp,
  printResults,
  providerLabel,
} from "./_engine_report.ts";
import { compareTopTokens, type ModelMatch } from "./_llama_cpp_check.ts";
import { LLAMA_CPP, LLAMA_CPP_PRECISION } from "./_llama_cpp.ts";
import {
  ensureGguf,
  llamaCppChoice,
  type LlamaCppRound,
  type LlamaCppSetup,
  type LlamaCppSide,
  setUpLlamaCpp,
} from "./_llama_cpp_runner.ts";
import { LlamaBenchBuildError } from "./_llama_bench_build.ts";
import { type LlamaCppDevice, runLlamaCppDriver } from "./_node_llama_cpp.ts";
import { type ExecutionProvider, missingProvider } from "../lib/inference/onnx/ort_session.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { ensureRandomCheckpoint, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";
import { type KernelResult, measureProjections } from "./bench_kernels.ts";

const MB = 1e6;
const RSS_SLACK_BYTES = 300 * MB;
const RSS_WEIGHT_FACTOR = 1.2;

type Options = Omit<WorkerArgs, "modelDir" | "shardCache" | "dtype" | "round"> & {
  runs: number;
  /** Time the projection kernels alone each round (CPU), for the step/kernels ratio. */
  kernels: boolean;
  /** Profile a decode step (ORT's profiler, in its own process) and print where time goes. */
  profile: boolean;
};
/** One-token runs of the projections-only graph per round (bench:kernels' default). */
const KERNEL_RUNS = 50;

// ---- child processes ----

async function spawnWorker(
  mode: "convert" | "run" | "verify" | "kernels" | "floor" | "profile",
  args: WorkerArgs,
  shape?: Shape,
): Promise<unknown> {
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
        "--round",
        String(args.round),
        "--long",
        String(args.long),
        ...(shape === undefined ? [] : ["--shapes", shape]),
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

/** A fresh shard cache (removed afterwards: a 1B float32 shard is ~5 GB). */
async function withShardCache<T>(
  cacheDir: string,
  prefix: string,
  body: (shardCache: string) => Promise<T>,
): Promise<T> {
  await Deno.mkdir(`${cacheDir}/shards`, { recursive: true });
  const shardCache = await Deno.makeTempDir({ dir: `${cacheDir}/shards`, prefix });
  try {
    return await body(shardCache);
  } finally {
    await Deno.remove(shardCache, { recursive: true });
  }
}

// ---- llama.cpp ----

/**
 * Checks that llama.cpp runs the F32 GGUF as our float32 engine runs the checkpoint.
 * Returns the match, or a string saying why it could not be checked.
 */
async function checkGguf(
  setup: LlamaCppSetup,
  modelDir: string,
  gguf: string,
  cacheDir: string,
  opts: Options,
): Promise<ModelMatch | string> {
  if (setup.checker === null) return `not checked: ${setup.problem}`;
  const ours = await withShardCache(
    cacheDir,
    "verify-float32-",
    (shardCache) =>
      spawnWorker("verify", {
        ...opts,
        modelDir,
        shardCache,
        dtype: "float32",
        provider: "cpu",
        round: 0,
      }),
  ) as VerifyResult;
  const theirs = await runLlamaCppDriver(setup.checker, {
    model: gguf,
    threads: opts.threads,
    verify: {
      tokens: ours.tokens.slice(0, VERIFY.prompt + VERIFY.steps - 1),
      from: VERIFY.prompt - 1,
      top: VERIFY.top,
    },
  });
  if (!theirs.verify) throw new Error("llama.cpp driver returned no check");
  return compareTopTokens(ours.top, theirs.verify);
}

/** Whether llama.cpp's device and ours make a like-for-like ratio. */
function comparable(ours: ExecutionProvider, device: LlamaCppDevice): boolean {
  return (ours === "cpu") === (device === "cpu");
}

// ---- one configuration ----

async function benchOne(
  shape: Shape,
  dtype: ShardDType,
  modelDir: string,
  vocab: number,
  cacheDir: string,
  opts: Options,
  llama: { side: LlamaCppSide; gguf: string; device: LlamaCppDevice } | null,
): Promise<BenchResult> {
  return await withShardCache(
    cacheDir,
    `${shape}-${dtype}-${opts.provider}-`,
    async (shardCache) => {
      const args: WorkerArgs = { ...opts, modelDir, shardCache, dtype, round: 0 };
      const converted = await spawnWorker("convert", args) as ConvertResult;
      if (converted.cacheHit) throw new Error("Cannot benchmark: cold load hit the cache");
      const ours: RunResult[] = [];
      const theirs: LlamaCppRound[] = [];
      const kernels: number[] = [];
      const floors: FloorResult[] = [];
      // The projections-only graph and the fused floor run on the CPU: bounds of a CPU step.
      const kernelRound = async (round: number) => {
        if (!opts.kernels || opts.provider !== "cpu") return;
        const ceiling = await spawnWorker("kernels", { ...args, round }, shape) as KernelResult;
        kernels.push(ceiling.projectionsMs);
        floors.push(await spawnWorker("floor", { ...args, round }) as FloorResult);
      };
      const llamaRound = async (round: number) => {
        if (!llama) return;
        theirs.push(
          await llama.side.round({
            gguf: llama.gguf,
            threads: opts.threads,
            promptTokens: promptTokens(opts.prompt, vocab),
            decodeTokens: opts.decode,
            firstToken: emptyContextToken(vocab, round),
          }),
        );
      };
      for (let round = 0; round < opts.runs; round++) {
        // Who goes first alternates, so a machine that drifts favours neither.
        if (round % 2 === 1) await llamaRound(round);
        if (round % 2 === 1) await kernelRound(round);
        const ran = await spawnWorker("run", { ...args, round }) as RunResult;
        if (!ran.cacheHit) throw new Error("Cannot benchmark: warm load missed the cache");
        ours.push(ran);
        if (round % 2 === 0) await llamaRound(round);
        if (round % 2 === 0) await kernelRound(round);
      }
      const profile = opts.profile ? await spawnWorker("profile", args) as ProfileResult : null;
      const activeProvider = ours[0].activeProvider;
      const rssLimitBytes = RSS_WEIGHT_FACTOR * converted.weightBytes + RSS_SLACK_BYTES;
      const peakRssBytes = Math.max(...ours.map((r) => r.peakRssBytes));
      const ourPrefill = median(ours.map((r) => r.prefillTokensPerSecond));
      const ourEmptyDecode = median(ours.map((r) => r.emptyContextDecodeTokensPerSecond));
      const loadRssBytes = Math.max(...ours.map((r) => r.loadRssBytes));
      return {
        shape,
        dtype,
        executionProvider: opts.provider,
        activeProvider,
        placement: ours[0].placement,
        nodes: ours[0].nodes,
        prefillTokensPerSecond: ourPrefill,
        decodeTokensPerSecond: median(ours.map((r) => r.decodeTokensPerSecond)),
        emptyContextDecodeTokensPerSecond: ourEmptyDecode,
        timeToFirstTokenMs: median(ours.map((r) => r.timeToFirstTokenMs)),
        coldLoadMs: converted.coldLoadMs,
        warmLoadMs: median(ours.map((r) => r.warmLoadMs)),
        weightBytes: converted.weightBytes,
        peakRssBytes,
        conversionPeakRssBytes: converted.peakRssBytes,
        rssLimitBytes,
        rssPass: peakRssBytes <= rssLimitBytes,
        loadRssBytes,
        longSteps: ours[0].steps,
        p99StepMs: median(ours.map((r) => r.p99StepMs)),
        slowestStepMs: Math.max(...ours.map((r) => r.slowestStepMs)),
        slowestStep: ours.reduce((a, b) => b.slowestStepMs > a.slowestStepMs ? b : a).slowestStep,
        afterPromptRatio: median(
          ours.map((r) => r.decodeTokensPerSecond / r.emptyContextDecodeTokensPerSecond),
        ),
        profile,
        projectionsMs: kernels.length === 0 ? null : median(kernels),
        // A step from an empty context over its projections, paired round by round.
        stepOverProjections: kernels.length === 0 ? null : median(
          kernels.map((ms, i) => 1000 / ours[i].emptyContextDecodeTokensPerSecond / ms),
        ),
        floor: floors.length === 0 ? null : {
          stepMs: median(floors.map((f) => f.stepMs)),
          nodes: floors[0].nodes,
          overProjections: median(floors.map((f, i) => f.stepMs / kernels[i])),
          stepOverFloor: median(
            floors.map((f, i) => 1000 / ours[i].emptyContextDecodeTokensPerSecond / f.stepMs),
          ),
        },
        llamaCpp: llama
          ? measuredLlamaCpp(
            llama.side.runner,
            ours,
            theirs,
            comparable(activeProvider, llama.device),
          )
          : fixedLlamaCpp(shape, dtype, ourPrefill, ourEmptyDecode, activeProvider === "cpu"),
      };
    },
  );
}

// ---- options and main ----

const USAGE = "usage: deno task bench:engine [--shapes smollm2-135m-like,llama-3.2-1b] " +
  "[--dtypes float32,float16,q4] [--prompt 512] [--decode 128] [--long 1000] [--threads 2] " +
  "[--runs 1] [--no-kernels] [--profile] [--vs-llama-cpp] " +
  "[--llama-cpp llama-bench|node-llama-cpp] [--llama-bench PATH] " +
  "[--execution-provider cpu|coreml|webgpu] [--cache-dir DIR] [--json out.json] " +
  "[--baseline old.json]";

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    allowNegative: true,
    options: {
      shapes: { type: "string", default: SHAPES.join(",") },
      dtypes: { type: "string", default: DTYPES.join(",") },
      prompt: { type: "string", default: "512" },
      decode: { type: "string", default: "128" },
      threads: { type: "string", default: "2" },
      runs: { type: "string", default: "1" },
      long: { type: "string", default: "1000" },
      kernels: { type: "boolean", default: true },
      profile: { type: "boolean", default: false },
      "vs-llama-cpp": { type: "boolean", default: false },
      "llama-cpp": { type: "string" },
      "llama-bench": { type: "string" },
      "execution-provider": { type: "string", default: "cpu" },
      "cache-dir": { type: "string" },
      json: { type: "string" },
      baseline: { type: "string" },
      worker: { type: "string" },
      result: { type: "string" },
      "model-dir": { type: "string" },
      "shard-cache": { type: "string" },
      round: { type: "string", default: "0" },
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
  const llamaBench = values["llama-bench"];
  if (llamaBench !== undefined) {
    let file: Deno.FileInfo | null = null;
    try {
      file = Deno.statSync(llamaBench);
    } catch {
      // Reported below.
    }
    if (!file?.isFile) {
      throw new RangeError(`Cannot benchmark: --llama-bench ${llamaBench}: no such file`);
    }
  }
  const opts: Options = {
    provider,
    threads: positive(values.threads, "threads"),
    prompt: positive(values.prompt, "prompt"),
    decode: positive(values.decode, "decode"),
    runs: positive(values.runs, "runs"),
    long: positive(values.long, "long"),
    kernels: values.kernels,
    profile: values.profile,
  };
  const choice = llamaCppChoice({
    vsLlamaCpp: values["vs-llama-cpp"],
    llamaCpp: values["llama-cpp"],
    llamaBench,
  });
  return { values, dtypes, shapes, opts, choice };
}

async function main(): Promise<void> {
  const { values, dtypes, opts, shapes, choice } = parseOrExit(
    "bench:engine",
    USAGE,
    parseOptions,
  );

  if (values.worker !== undefined) {
    const args: WorkerArgs = {
      ...opts,
      modelDir: values["model-dir"]!,
      shardCache: values["shard-cache"]!,
      dtype: dtypes[0],
      round: Number(values.round),
    };
    const kernels = () =>
      measureProjections(shapes[0], dtypes[0], {
        threads: opts.threads,
        runs: KERNEL_RUNS,
        cacheDir: `${args.shardCache}/..`,
      });
    const work = {
      convert: convertWorker,
      run: runWorker,
      verify: verifyWorker,
      profile: profileWorker,
      floor: floorWorker,
      kernels,
    }[values.worker];
    if (!work) throw new RangeError(`Cannot benchmark: unknown worker ${values.worker}`);
    await Deno.writeTextFile(values.result!, JSON.stringify(await work(args)));
    return;
  }

  const cacheDir = values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench`;
  const baseline = values.baseline
    ? (JSON.parse(await Deno.readTextFile(values.baseline)).results as BenchResult[])
    : null;
  console.log(
    `bench:engine: ${shapes.join(",")} x ${dtypes.join(",")} on ${providerLabel(opts.provider)}, ` +
      `prompt ${opts.prompt}, decode ${opts.decode}, ${opts.threads} threads, ${opts.runs} ` +
      `round(s), cache ${cacheDir}`,
  );
  const loadAtStart = Deno.loadavg()[0];
  const busy = busyMachineWarning(loadAtStart, navigator.hardwareConcurrency);
  console.log(
    `Machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cpus, load average ` +
      `${loadAtStart.toFixed(1)}; figures are noisy on a shared machine, compare back to back`,
  );
  if (busy) console.log(busy);

  let setup: LlamaCppSetup | null = null;
  if (choice.runner !== "none") {
    console.log("llama.cpp: installing node-llama-cpp from npm (once; cached) ...");
    try {
      setup = await setUpLlamaCpp(
        choice,
        `${cacheDir}/llama-cpp`,
        (line) => console.log(`llama.cpp: ${line}`),
      );
    } catch (error) {
      if (!(error instanceof LlamaBenchBuildError)) throw error;
      console.error(`bench:engine: ${error.message}`);
      Deno.exit(1);
    }
    if (setup.side) console.log(`llama.cpp: ${setup.side.label()}`);
  }
  const llama: LlamaCppReport = {
    label: null,
    runner: setup?.side?.runner ?? null,
    device: setup?.device ?? null,
    fallback: choice.runner === "none"
      ? "pass --vs-llama-cpp to measure llama.cpp in this run"
      : "",
    checks: {},
  };
  const fallBack = (reason: string) => {
    llama.fallback = `llama.cpp cannot run here: ${reason}`;
    console.log(`${llama.fallback}; using the fixed figures from now on`);
    setup = null;
  };
  if (setup && setup.side === null) fallBack(setup.problem);

  const results: BenchResult[] = [];
  for (const shape of shapes) {
    const started = performance.now();
    const checkpoint = await ensureRandomCheckpoint(
      `${cacheDir}/checkpoints/${shape}`,
      realShapeSpecs[shape],
    );
    console.log(`${shape}: checkpoint ready in ${fixed((performance.now() - started) / 1000)} s`);
    const ggufOf = (dtype: ShardDType) =>
      ensureGguf(checkpoint.dir, `${cacheDir}/gguf`, shape, LLAMA_CPP_PRECISION[dtype]);
    if (setup) {
      try {
        const check = await checkGguf(
          setup,
          checkpoint.dir,
          await ggufOf("float32"),
          cacheDir,
          opts,
        );
        llama.checks[shape] = check;
        console.log(`${shape}: ${describeCheck(check)}`);
      } catch (error) {
        if (setup.side?.runner === "llama-bench") {
          // llama-bench measures without node-llama-cpp; the report says the check is missing.
          llama.checks[shape] = `not checked: ${(error as Error).message}`;
          console.log(`${shape}: ${describeCheck(llama.checks[shape])}`);
        } else {
          // A node-llama-cpp that installed but cannot load (no usable binary) is a missing one.
          fallBack((error as Error).message);
        }
      }
    }
    for (const dtype of dtypes) {
      const side = setup?.side;
      const result = await benchOne(
        shape,
        dtype,
        checkpoint.dir,
        checkpoint.config.vocabSize,
        cacheDir,
        opts,
        side ? { side, gguf: await ggufOf(dtype), device: setup!.device } : null,
      );
      if (side) llama.label = side.label();
      const ref = result.llamaCpp;
      const theirs = ref?.source === "this run"
        ? `; llama.cpp (${ref.runner}) prefill ${fixed(ref.prefillTokensPerSecond ?? 0)}, ` +
          `decode ${
            ref.afterPromptDecodeTokensPerSecond == null
              ? "n/a"
              : fixed(ref.afterPromptDecodeTokensPerSecond)
          } ` +
          `(from empty ${fixed(ref.decodeTokensPerSecond ?? 0)})`
        : "";
      console.log(
        `${shape} ${dtype}: prefill ${fixed(result.prefillTokensPerSecond)} tok/s, decode ` +
          `${fixed(result.decodeTokensPerSecond)} tok/s (from empty ` +
          `${fixed(result.emptyContextDecodeTokensPerSecond)}), cold ${
            fixed(result.coldLoadMs / 1000)
          } s${theirs}`,
      );
      results.push(result);
      if (values.json) {
        await writeJson(values.json, { ...opts, loadAtStart, warning: busy }, results, llama);
      }
    }
  }
  printResults(results, baseline, llama, { ...opts, warning: busy });
  if (values.json) console.log(`\nWrote ${values.json}`);
  const failed = Object.entries(llama.checks).filter(([, c]) => typeof c !== "string" && !c.same);
  if (failed.length > 0) {
    console.error(
      `\nbench:engine: the GGUF of ${failed.map(([s]) => s).join(", ")} is not the same model ` +
        "as ours: its llama.cpp figures are not a like-for-like comparison",
    );
    Deno.exit(1);
  }
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}

async function writeJson(
  path: string,
  opts: object,
  results: BenchResult[],
  llama: LlamaCppReport,
): Promise<void> {
  const anyFixed = results.some((r) => r.llamaCpp?.source !== "this run");
  await writeReport(path, {
    options: opts,
    llamaCpp: { ...llama, fixedFigures: anyFixed ? LLAMA_CPP : undefined },
    results,
  });
}

if (import.meta.main) await main();
