import { type Logger, silentLogger } from "../log/logger.ts";
import { loadModelConfig } from "../model/hf_config.ts";
import type { ModelConfig } from "../model/model_config.ts";
import type { ExecutionProvider as SessionProvider } from "./onnx/ort_session.ts";
import type { ShardDType } from "./onnx/shard_signature.ts";
import { sample } from "./sampler/sample.ts";
import type { SamplingParams } from "./sampler/sampling_params.ts";
import type { Rng } from "./sampler/seeded_rng.ts";
import type { ShardInput, ShardOutput } from "./shard_input.ts";
import type { LoadedRunner } from "./shard_runner.ts";
import { loadRunner } from "./load_runner.ts";
import { servedContext } from "./shard_load.ts";
import { ContextLengthError } from "./context_length_error.ts";
import { describePlacement, offProvider, type Placement } from "./onnx/placement.ts";
import { ORT_PROVIDER_NAMES } from "./onnx/ort_session.ts";
import {
  type AutoProviderOptions,
  type ProviderChoice,
  ProviderChooser,
} from "./provider_choice.ts";

export type { SessionProvider };
export { ContextLengthError } from "./context_length_error.ts";
export type { ShardDType } from "./onnx/shard_signature.ts";
export type { AutoProviderOptions, ProviderChoice } from "./provider_choice.ts";
export { autoProviderOptions } from "./provider_choice.ts";

/**
 * The provider a shard asks for: one ONNX Runtime runs, or "auto", measured at load among
 * those this build and machine have (see provider_choice.ts).
 */
export type ExecutionProvider = SessionProvider | "auto";

/** Which shard to load: a model directory's layers `startLayer..endLayer` (inclusive). */
export interface ShardRequest {
  /** Hugging Face model directory (config.json, safetensors, tokenizer files). */
  modelDir: string;
  /** First layer held (inclusive). */
  startLayer: number;
  /** Last layer held (inclusive), as in the topology's ShardRange. */
  endLayer: number;
  /** The weight precision asked for; with "auto", see candidateDType. */
  dtype: ShardDType;
  /** The provider asked for; CoreML and WebGPU fall back to CPU when unavailable. */
  executionProvider: ExecutionProvider;
}

/** A loaded shard, as the engine reports it. */
export interface LoadedShard extends ShardRequest {
  /** The precision the shard runs in (under "auto", CoreML's float16 where q4 was asked). */
  dtype: ShardDType;
  config: ModelConfig;
  /** The provider the session runs on (the one "auto" chose; CPU after a fallback). */
  activeProvider: SessionProvider;
  /** Why the requested provider was not used, or null. */
  fallbackReason: string | null;
  /** Whether the built graph came from the disk cache. */
  cacheHit: boolean;
  /** Where ORT runs the shard's nodes, per provider (from a profiled warm-up run). */
  placement: Placement;
  /** Longest context (prompt plus generated tokens) a request may reach. */
  maxContext: number;
  /** What "auto" measured and chose; absent when the provider was named. */
  choice?: ProviderChoice;
}

/**
 * What cluster orchestration needs from an inference engine: hold one shard, run a request's
 * next tokens through it (token ids or hidden states in, hidden states or logits out),
 * sample from logits, and free a request's KV cache.
 */
export interface InferenceEngine {
  /** The loaded shard, or null before the first load. */
  readonly shard: LoadedShard | null;
  /** Loads a shard, replacing (and disposing) any other; loading the same shard again is a no-op. */
  loadShard(request: ShardRequest): Promise<LoadedShard>;
  /**
   * Runs the request's next tokens through the shard, extending its KV cache.
   * @throws {ContextLengthError} when the request would outgrow the context.
   */
  step(requestId: string, input: ShardInput): Promise<ShardOutput>;
  /**
   * Runs one decode token for each of several requests together (weights read once).
   * Each input holds exactly one token; outputs come back in input order.
   * @throws {ContextLengthError} when a request would outgrow the context.
   */
  stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]>;
  /** Draws the next token id from a logits vector ([vocab]). */
  sample(logits: Float32Array, params: SamplingParams, rng: Rng): number;
  /** Tokens cached for the request (0 when it holds no cache). */
  cachedLength(requestId: string): number;
  /** Frees the request's KV cache; returns whether it had one. */
  release(requestId: string): boolean;
  /** Frees every cache and the session. */
  dispose(): Promise<void>;
}

/**
 * The default weight precision for a provider. On CPU, q4 decodes fastest (the engine
 * benchmark measures decode as memory-bound, and q4 reads a quarter of float16's bytes);
 * WebGPU has a MatMulNBits kernel too and runs it with float16 activations; CoreML runs
 * float16 natively and has no 4-bit kernel, so it gets float16 (and does under "auto").
 */
export function defaultDType(executionProvider: ExecutionProvider): ShardDType {
  switch (executionProvider) {
    case "auto":
    case "cpu":
    case "webgpu":
      return "q4";
    case "coreml":
      return "float16";
  }
}

/** How {@linkcode OnnxEngine} runs its shards. */
export interface OnnxEngineOptions {
  /** Where built shard graphs are cached. */
  cacheDir: string;
  /** Intra-op threads (default: ShardRunner's default). */
  threads?: number;
  /** Longest context served (default: ShardRunner's default). */
  maxContext?: number;
  /** A request's cache is freed after this long without a step (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Called after an idle request's cache was freed, e.g. to tell the cluster. */
  onIdleRelease?: (requestId: string) => void;
  /** How shards that ask for "auto" choose (default: measure at every load, keep nothing). */
  auto?: AutoProviderOptions;
  logger?: Logger;
}

const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

/**
 * An {@linkcode InferenceEngine} over ONNX Runtime. It keeps at most one shard session per
 * process, since idle sessions' spinning thread pools steal each other's cores: loading
 * another shard disposes the current one (and every cache with it) first.
 *
 * @example Usage
 * ```ts
 * const engine = new OnnxEngine({ cacheDir: "/tmp/shards" });
 * await engine.loadShard({ modelDir, startLayer: 0, endLayer: 15, dtype: "q4", executionProvider: "cpu" });
 * const out = await engine.step("req-1", { tokenIds: [128000, 9906] });
 * engine.release("req-1");
 * await engine.dispose();
 * ```
 */
export class OnnxEngine implements InferenceEngine {
  #options: OnnxEngineOptions;
  #idleTimeoutMs: number;
  #logger: Logger;
  #runner: LoadedRunner | null = null;
  #shard: LoadedShard | null = null;
  /** The request the loaded shard answers (its dtype may differ from the one it runs). */
  #request: ShardRequest | null = null;
  #chooser: ProviderChooser;
  /** Loads and disposals run one at a time; steps wait for the one in progress. */
  #lifecycle: Promise<unknown> = Promise.resolve();
  /** When each request's cache expires (ms, performance.now clock). */
  #deadlines = new Map<string, number>();
  /** Steps in flight per request; a request with one never expires. */
  #busy = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  /** Creates an engine with no shard loaded. */
  constructor(options: OnnxEngineOptions) {
    const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!(idle > 0)) {
      throw new RangeError(`Cannot create engine: idleTimeoutMs must be positive, got ${idle}`);
    }
    this.#options = options;
    this.#idleTimeoutMs = idle;
    this.#logger = options.logger ?? silentLogger;
    this.#chooser = new ProviderChooser(options.auto ?? {}, this.#logger);
  }

  /** Probes "auto" has run in this engine (a kept decision spares one). */
  get probes(): number {
    return this.#chooser.probes;
  }

  /** The loaded shard, or null. */
  get shard(): LoadedShard | null {
    return this.#shard;
  }

  /**
   * Loads a shard (building its graph into the cache dir when missing), after disposing the
   * current one unless it is the same shard. A failed load leaves no shard loaded.
   * @throws {RangeError} for a bad layer range; model errors name the model directory.
   */
  loadShard(request: ShardRequest): Promise<LoadedShard> {
    const run = this.#lifecycle.then(() => this.#load(request));
    this.#lifecycle = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs the request's next tokens (prefill when several, decode when one).
   * @throws {ContextLengthError} when the request would outgrow the context.
   * @throws {TypeError} when no shard is loaded.
   */
  async step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    await this.#lifecycle;
    const runner = this.#runner;
    if (runner === null) {
      throw new TypeError(`Cannot run request ${requestId}: no shard is loaded`);
    }
    const seq = "tokenIds" in input ? input.tokenIds.length : input.seq;
    const length = runner.cachedLength(requestId) + seq;
    if (length > runner.maxContext) {
      throw new ContextLengthError(`request ${requestId}`, length, runner.maxContext);
    }
    this.#markBusy(requestId);
    try {
      return await runner.step(requestId, input);
    } finally {
      this.#markDone(runner, requestId);
    }
  }

  /**
   * Runs one decode token for each of several requests in one session call; see
   * {@linkcode ShardRunner.stepBatch}. Outputs come back in input order.
   * @throws {ContextLengthError} when a request would outgrow the context.
   * @throws {TypeError} when no shard is loaded.
   */
  async stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]> {
    await this.#lifecycle;
    const runner = this.#runner;
    if (runner === null) {
      const ids = items.map((item) => item.requestId).join(", ");
      throw new TypeError(`Cannot run requests ${ids}: no shard is loaded`);
    }
    for (const { requestId, input } of items) {
      const seq = "tokenIds" in input ? input.tokenIds.length : input.seq;
      const length = runner.cachedLength(requestId) + seq;
      if (length > runner.maxContext) {
        throw new ContextLengthError(`request ${requestId}`, length, runner.maxContext);
      }
    }
    for (const { requestId } of items) this.#markBusy(requestId);
    try {
      return await runner.stepBatch(items);
    } finally {
      for (const { requestId } of items) this.#markDone(runner, requestId);
    }
  }

  /** Draws the next token id; see {@linkcode sample}. */
  sample(logits: Float32Array, params: SamplingParams, rng: Rng): number {
    return sample(logits, params, rng);
  }

  /** Tokens cached for the request (0 when it holds no cache). */
  cachedLength(requestId: string): number {
    return this.#runner?.cachedLength(requestId) ?? 0;
  }

  /** Frees the request's KV cache; returns whether it had one. */
  release(requestId: string): boolean {
    this.#deadlines.delete(requestId);
    if (this.#deadlines.size === 0) this.#clearTimer();
    return this.#runner?.release(requestId) ?? false;
  }

  /** Frees every cache, the session and the idle timer; the engine cannot be used after. */
  dispose(): Promise<void> {
    this.#disposed = true;
    const run = this.#lifecycle.then(() => this.#unload());
    this.#lifecycle = run.catch(() => undefined);
    return run;
  }

  async #load(request: ShardRequest): Promise<LoadedShard> {
    if (this.#disposed) throw new TypeError("Cannot load shard: the engine is disposed");
    const current = this.#shard;
    if (current !== null && sameShard(this.#request!, request)) return current;
    await this.#unload();
    const config = await loadModelConfig(request.modelDir);
    const { cacheDir, threads } = this.#options;
    const maxContext = servedContext(config, this.#options.maxContext);
    const choiceRequest = { ...request, config, cacheDir, threads, maxContext };
    let choice: ProviderChoice | undefined;
    let runs: { executionProvider: SessionProvider; dtype: ShardDType };
    if (request.executionProvider === "auto") {
      choice = await this.#chooser.choose(choiceRequest);
      runs = { executionProvider: choice.provider, dtype: choice.dtype };
    } else {
      runs = { executionProvider: request.executionProvider, dtype: request.dtype };
    }
    const runner = await loadRunner({
      ...request,
      ...runs,
      config,
      cacheDir,
      threads,
      maxContext,
      logger: this.#logger,
    });
    this.#runner = runner;
    this.#request = request;
    if (choice !== undefined && runner.executionProvider !== choice.provider) {
      this.#logger.warn(
        `auto: ${choice.provider} did not load (${runner.fallbackReason}); running on ${runner.executionProvider}, and the next start measures again`,
      );
      await this.#chooser.forget(choiceRequest).catch((error) =>
        this.#logger.warn(`auto: cannot forget the kept choice: ${(error as Error).message}`)
      );
    }
    const placed = describePlacement(runner.placement);
    const strays = offProvider(runner.placement, ORT_PROVIDER_NAMES[runner.executionProvider]);
    if (runner.executionProvider !== "cpu" && strays.length > 0) {
      this.#logger.warn(`Shard ${request.startLayer}..${request.endLayer} runs ${placed}`);
    } else {
      this.#logger.info(`Shard ${request.startLayer}..${request.endLayer} runs ${placed}`);
    }
    this.#shard = {
      modelDir: request.modelDir,
      startLayer: request.startLayer,
      endLayer: request.endLayer,
      dtype: runs.dtype,
      executionProvider: request.executionProvider,
      config,
      activeProvider: runner.executionProvider,
      fallbackReason: runner.fallbackReason,
      cacheHit: runner.cacheHit,
      placement: runner.placement,
      maxContext: runner.maxContext,
      ...(choice === undefined ? {} : { choice }),
    };
    return this.#shard;
  }

  async #unload(): Promise<void> {
    this.#clearTimer();
    this.#deadlines.clear();
    const runner = this.#runner;
    this.#runner = null;
    this.#shard = null;
    this.#request = null;
    await runner?.dispose();
  }

  #markBusy(requestId: string): void {
    this.#busy.set(requestId, (this.#busy.get(requestId) ?? 0) + 1);
  }

  #markDone(runner: LoadedRunner, requestId: string): void {
    const left = this.#busy.get(requestId)! - 1;
    if (left === 0) this.#busy.delete(requestId);
    else this.#busy.set(requestId, left);
    if (runner === this.#runner && runner.cachedLength(requestId) > 0) this.#touch(requestId);
  }

  #touch(requestId: string): void {
    this.#deadlines.set(requestId, performance.now() + this.#idleTimeoutMs);
    if (this.#timer === undefined) this.#schedule();
  }

  #schedule(): void {
    this.#clearTimer();
    if (this.#deadlines.size === 0) return;
    const next = Math.min(...this.#deadlines.values());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#expire();
    }, Math.max(0, next - performance.now()));
  }

  #expire(): void {
    const now = performance.now();
    for (const [requestId, deadline] of this.#deadlines) {
      if (deadline > now) continue;
      if (this.#busy.has(requestId)) {
        this.#deadlines.set(requestId, now + this.#idleTimeoutMs);
        continue;
      }
      this.#deadlines.delete(requestId);
      if (this.#runner?.release(requestId)) {
        this.#logger.debug(`Released the cache of idle request ${requestId}`);
        this.#options.onIdleRelease?.(requestId);
      }
    }
    this.#schedule();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function sameShard(a: ShardRequest, b: ShardRequest): boolean {
  return a.modelDir === b.modelDir && a.startLayer === b.startLayer &&
    a.endLayer === b.endLayer && a.dtype === b.dtype &&
    a.executionProvider === b.executionProvider;
}
