/**
 * bench:engine's child processes: each loads one shard (all layers) and measures one thing,
 * so every figure comes from a fresh process. "convert" builds the shard into an empty cache
 * (cold load, conversion peak RSS); "run" loads it from that cache and measures one round of
 * speed (warm load, prefill, decode, serving peak RSS); "verify" records our greedy
 * continuation of a fixed prompt with each position's most likely tokens, which llama.cpp's
 * must match for its figures to be of the same model.
 * @module
 */
import { promptTokens } from "./_bench_util.ts";
import { topLogProbs, type TopTokens } from "./_llama_cpp_check.ts";
import type { LoadedRunner, ShardRunnerOptions } from "../lib/inference/shard_runner.ts";
import { loadRunner } from "../lib/inference/load_runner.ts";
import { GqaShardRunner } from "../lib/inference/gqa_shard_runner.ts";
import type { ExecutionProvider } from "../lib/inference/onnx/ort_session.ts";
import { describePlacement, type Placement } from "../lib/inference/onnx/placement.ts";
import { type ProfileSummary, summarizeProfile } from "../lib/inference/onnx/profile_summary.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { argmax } from "../lib/inference/sampler/mod.ts";
import { loadModelConfig } from "../lib/model/mod.ts";

/** The model check's prompt length, greedy steps, tokens kept per step and prompt seed. */
export const VERIFY = { prompt: 16, steps: 16, top: 8, seed: 7 } as const;

/** What a worker is told, on its command line. */
export interface WorkerArgs {
  modelDir: string;
  shardCache: string;
  dtype: ShardDType;
  provider: ExecutionProvider;
  threads: number;
  prompt: number;
  decode: number;
  /** Which round this is: seeds the one-token prompt of the empty-context decode. */
  round: number;
  /**
   * Tokens generated after the prompt in all, at least `decode`: the long generation whose
   * every step is timed (the slowest step and p99) and after which memory is read.
   */
  long: number;
}

/** What the converting child reports. */
export interface ConvertResult {
  coldLoadMs: number;
  cacheHit: boolean;
  weightBytes: number;
  peakRssBytes: number;
}

/** What a running child reports: one round. */
export interface RunResult {
  warmLoadMs: number;
  cacheHit: boolean;
  /** The provider the session ran on (CPU after a fallback). */
  activeProvider: ExecutionProvider;
  /** Where ORT placed the shard's nodes, as one line. */
  placement: string;
  /** Nodes of the shard's graph (one run of it). */
  nodes: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Decoding `decode` tokens after a one-token prompt, as llama-bench's tg. */
  emptyContextDecodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
  /** Resident memory's high-water mark once loaded and warmed up, before the rounds. */
  loadRssBytes: number;
  /** The high-water mark at the end, after the long generation. */
  peakRssBytes: number;
  /** Steps timed after the prompt (the long generation). */
  steps: number;
  /** The 99th percentile and the slowest of those steps, ms. */
  p99StepMs: number;
  slowestStepMs: number;
  /** Which step was the slowest (1 = the first after the prompt's first token). */
  slowestStep: number;
}

/** What the verifying child reports. */
export interface VerifyResult {
  /** The prompt, then our greedy tokens. */
  tokens: number[];
  /** Per greedy step, our most likely tokens with log-probabilities. */
  top: TopTokens[];
}

/** The one-token prompt of round `round`'s empty-context decode. */
export function emptyContextToken(vocab: number, round: number): number {
  return promptTokens(1, vocab, round)[0];
}

/** Peak resident memory of this process. */
class PeakRss {
  #max = 0;
  #timer: ReturnType<typeof setInterval>;
  constructor() {
    this.#timer = setInterval(() => this.sample(), 50);
  }
  sample(): void {
    this.#max = Math.max(this.#max, Deno.memoryUsage().rss);
  }
  /** VmHWM on Linux (the kernel's own high-water mark), else the largest sample so far. */
  read(): number {
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
  /** Stops sampling; returns {@linkcode read}. */
  stop(): number {
    clearInterval(this.#timer);
    return this.read();
  }
}

function nodeCount(placement: Placement): number {
  return placement.providers.reduce((sum, p) => sum + p.nodes, 0);
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

/** The options of a shard holding every layer of the worker's model. */
async function wholeShard(args: WorkerArgs): Promise<ShardRunnerOptions> {
  const config = await loadModelConfig(args.modelDir);
  return {
    modelDir: args.modelDir,
    config,
    startLayer: 0,
    endLayer: config.numLayers - 1,
    cacheDir: args.shardCache,
    dtype: args.dtype,
    executionProvider: args.provider,
    threads: args.threads,
  };
}

async function loadShard(
  args: WorkerArgs,
  profile = false,
): Promise<{ runner: LoadedRunner; ms: number }> {
  const options = await wholeShard(args);
  const started = performance.now();
  const runner = await loadRunner({ ...options, profile });
  return { runner, ms: performance.now() - started };
}

function logitsOf(output: Awaited<ReturnType<LoadedRunner["step"]>>): Float32Array {
  if (output.kind !== "logits") throw new TypeError("Cannot benchmark: the shard returned hidden");
  return output.logits;
}

/** The greedy next token after `tokenIds` for request `id`. */
async function nextToken(runner: LoadedRunner, id: string, tokenIds: number[]): Promise<number> {
  return argmax(logitsOf(await runner.step(id, { tokenIds })));
}

/**
 * Decodes `count` tokens greedily for request `id`, the first step fed `first`; returns
 * each step's ms.
 */
async function decodeSteps(
  runner: LoadedRunner,
  id: string,
  first: number,
  count: number,
): Promise<number[]> {
  let token = first;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    token = await nextToken(runner, id, [token]);
    times.push(performance.now() - started);
  }
  return times;
}

/** Converts the shard into an empty cache. */
export async function convertWorker(args: WorkerArgs): Promise<ConvertResult> {
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

/** Loads the converted shard and measures one round. */
export async function runWorker(args: WorkerArgs): Promise<RunResult> {
  const rss = new PeakRss();
  const { runner, ms } = await loadShard(args);
  const vocab = runner.config.vocabSize;
  // A short throwaway request first, so one-time allocations are not charged to the round.
  await decodeSteps(runner, "warmup", await nextToken(runner, "warmup", promptTokens(8, vocab)), 2);
  runner.release("warmup");
  const loadRssBytes = rss.read();

  /**
   * Decodes `count` tokens for request `id` from `first`; returns tokens/s over the first
   * args.decode of them and every step's ms.
   */
  const decodeRun = async (id: string, first: number, count = args.decode) => {
    const times = await decodeSteps(runner, id, first, count);
    const decodeMs = times.slice(0, args.decode).reduce((sum, t) => sum + t, 0);
    return { tokensPerSecond: args.decode / (decodeMs / 1000), times };
  };
  const started = performance.now();
  const token = await nextToken(runner, "run", promptTokens(args.prompt, vocab));
  const firstToken = performance.now() - started;
  const long = await decodeRun("run", token, Math.max(args.decode, args.long));
  runner.release("run");
  const sorted = [...long.times].sort((a, b) => a - b);
  const slowestStepMs = sorted[sorted.length - 1];

  const first = await nextToken(runner, "empty", [emptyContextToken(vocab, args.round)]);
  const emptyDecode = (await decodeRun("empty", first)).tokensPerSecond;
  runner.release("empty");

  const { cacheHit, executionProvider } = runner;
  const placement = describePlacement(runner.placement);
  const nodes = nodeCount(runner.placement);
  await runner.dispose();
  return {
    warmLoadMs: ms,
    cacheHit,
    activeProvider: executionProvider,
    placement,
    nodes,
    prefillTokensPerSecond: args.prompt / (firstToken / 1000),
    decodeTokensPerSecond: long.tokensPerSecond,
    emptyContextDecodeTokensPerSecond: emptyDecode,
    timeToFirstTokenMs: firstToken,
    loadRssBytes,
    peakRssBytes: rss.stop(),
    steps: long.times.length,
    p99StepMs: sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)],
    slowestStepMs,
    slowestStep: long.times.indexOf(slowestStepMs) + 1,
  };
}

/** What the fused-floor child reports: one round. */
export interface FloorResult {
  /** Mean decode step from an empty context, ms. */
  stepMs: number;
  /** Nodes of the graph (one run of it). */
  nodes: number;
}

/**
 * ONNX Runtime's fewest-node form of the same shard on the CPU: the GroupQueryAttention
 * graph (fused attention with internal rotary, fused QKV and gate|up projections, fused
 * norms; about 10 nodes a layer against the served graph's 29) in float32. It decodes
 * `decode` tokens after the round's one-token prompt, as the empty-context decode does.
 * That graph copies its whole cache every step, which is why nodes do not serve it on the
 * CPU; from an empty context the copy is small, so this is the floor of a step here.
 */
export async function floorWorker(args: WorkerArgs): Promise<FloorResult> {
  const runner = await GqaShardRunner.load({
    ...await wholeShard(args),
    executionProvider: "cpu",
    activations: "float32",
  });
  const { config } = runner;
  try {
    const token = await nextToken(runner, "floor", [
      emptyContextToken(config.vocabSize, args.round),
    ]);
    const times = await decodeSteps(runner, "floor", token, args.decode);
    const stepMs = times.reduce((sum, t) => sum + t, 0) / args.decode;
    return { stepMs, nodes: nodeCount(runner.placement) };
  } finally {
    await runner.dispose();
  }
}

/** Where a decode step's time goes, after the prompt and from an empty context. */
export interface ProfileResult {
  afterPrompt: ProfileSummary;
  empty: ProfileSummary;
}

/**
 * Where a decode step's time goes: with ORT's profiler on, decodes `decode` tokens after
 * the `prompt`-token prompt, then `decode` tokens after a one-token prompt, and summarizes
 * each run of steps (profiling slows every node a little: these are shares, not speeds).
 */
export async function profileWorker(args: WorkerArgs): Promise<ProfileResult> {
  const { runner } = await loadShard(args, true);
  try {
    const vocab = runner.config.vocabSize;
    const decode = async (id: string, prompt: number[]) => {
      await decodeSteps(runner, id, await nextToken(runner, id, prompt), args.decode);
      runner.release(id);
    };
    await decode("after", promptTokens(args.prompt, vocab));
    await decode("empty", [emptyContextToken(vocab, args.round)]);
    const json = await runner.endProfile();
    return {
      afterPrompt: summarizeProfile(json, args.decode, args.decode + 1),
      empty: summarizeProfile(json, args.decode),
    };
  } finally {
    await runner.dispose();
  }
}

/** Our greedy continuation of the check's prompt, with each step's most likely tokens. */
export async function verifyWorker(args: WorkerArgs): Promise<VerifyResult> {
  const { runner } = await loadShard(args);
  try {
    const tokens = promptTokens(VERIFY.prompt, runner.config.vocabSize, VERIFY.seed);
    const top: TopTokens[] = [];
    let logits = logitsOf(await runner.step("verify", { tokenIds: tokens }));
    for (let step = 0; step < VERIFY.steps; step++) {
      top.push(topLogProbs(logits, VERIFY.top));
      const next = argmax(logits);
      tokens.push(next);
      if (step + 1 < VERIFY.steps) {
        logits = logitsOf(await runner.step("verify", { tokenIds: [next] }));
      }
    }
    runner.release("verify");
    return { tokens, top };
  } finally {
    await runner.dispose();
  }
}
