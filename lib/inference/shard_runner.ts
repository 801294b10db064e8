import type { ModelConfig } from "../model/model_config.ts";
import { type KvBuffer, KvCache, type KvElementType } from "./kv_cache.ts";
import { BatchKvPool, runDecodeBatch } from "./decode_batch.ts";
import { checkShardInput, type ShardInput, type ShardOutput } from "./shard_input.ts";

export type { ShardInput, ShardOutput } from "./shard_input.ts";
import { ort } from "./onnx/ort_runtime.ts";
import { type ExecutionProvider, openSession } from "./onnx/ort_session.ts";
import type { RopeTables } from "./onnx/rope_tables.ts";
import type { ShardSignature } from "./onnx/shard_signature.ts";
import type { Placement } from "./onnx/placement.ts";
import { attentionFeeds } from "./attention_feeds.ts";
import {
  prepacksWeights,
  prepareShard,
  profileDir,
  SessionProfile,
  type ShardRunnerOptions,
  warmUpInput,
} from "./shard_load.ts";

export type { ShardRunnerOptions } from "./shard_load.ts";
export { prepacksWeights } from "./shard_load.ts";

/** What the engine needs from a loaded shard, whichever runner holds it. */
export interface LoadedRunner {
  readonly cacheHit: boolean;
  readonly executionProvider: ExecutionProvider;
  readonly fallbackReason: string | null;
  /** Where ORT runs the shard's nodes, from a profiled warm-up run. */
  readonly placement: Placement;
  /** Ends the profile kept with the `profile` load option; returns ORT's JSON trace. */
  endProfile(): Promise<string>;
  readonly config: ModelConfig;
  readonly signature: ShardSignature;
  readonly maxContext: number;
  requestIds(): string[];
  cachedLength(requestId: string): number;
  release(requestId: string): boolean;
  step(requestId: string, input: ShardInput): Promise<ShardOutput>;
  stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]>;
  dispose(): Promise<void>;
}

/** The request id of the load's warm-up run (never a real request's: those are UUIDs). */
export const WARM_UP_REQUEST = "\u0000warm-up";

/**
 * Runs one pipeline shard (a contiguous range of layers) in one ORT session, keeping a
 * KV cache per request id. A request's cache is created by its first step and lives until
 * `release`. Steps run one at a time, in call order.
 */
export class ShardRunner implements LoadedRunner {
  #config: ModelConfig;
  #session: ort.InferenceSession;
  #signature: ShardSignature;
  #rope: RopeTables;
  #caches = new Map<string, KvCache>();
  #batchPool = new BatchKvPool();
  #empty: { key: KvBuffer; value: KvBuffer } | null = null;
  #cacheChunk: number;
  #prefillChunk: number;
  #kvType: KvElementType;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;
  #cacheHit: boolean;
  #executionProvider: ExecutionProvider;
  #fallbackReason: string | null;
  #profile: SessionProfile | null = null;

  private constructor(
    config: ModelConfig,
    session: ort.InferenceSession,
    signature: ShardSignature,
    rope: RopeTables,
    cacheChunk: number,
    prefillChunk: number,
    kvType: KvElementType,
    loaded: {
      cacheHit: boolean;
      executionProvider: ExecutionProvider;
      fallbackReason: string | null;
    },
  ) {
    this.#config = config;
    this.#session = session;
    this.#signature = signature;
    this.#rope = rope;
    this.#cacheChunk = cacheChunk;
    this.#prefillChunk = prefillChunk;
    this.#kvType = kvType;
    this.#cacheHit = loaded.cacheHit;
    this.#executionProvider = loaded.executionProvider;
    this.#fallbackReason = loaded.fallbackReason;
  }

  /**
   * Builds (or finds in `cacheDir`) the shard graph and opens its session.
   * @throws {RangeError} for a bad layer range, context length or thread count.
   */
  static async load(options: ShardRunnerOptions): Promise<ShardRunner> {
    const activations = options.dtype === "float16" ? "float16" : "float32";
    const shard = await prepareShard(options, { attention: "masked", activations });
    const profile = await profileDir();
    const opened = await openSession({
      modelPath: shard.modelPath,
      executionProvider: options.executionProvider,
      threads: options.threads,
      prepackWeights: options.prepackWeights ?? prepacksWeights(options.dtype),
      profilePrefix: `${profile}/warm-up`,
    }, shard.logger).catch(async (error) => {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    });
    const runner = new ShardRunner(
      options.config,
      opened.session,
      shard.signature,
      shard.rope,
      shard.cacheChunk,
      shard.prefillChunk,
      activations,
      {
        cacheHit: shard.cacheHit,
        executionProvider: opened.executionProvider,
        fallbackReason: opened.fallbackReason ?? options.fallbackReason ?? null,
      },
    );
    runner.#profile = await SessionProfile.warmUp(opened.session, profile, async () => {
      await runner.step(WARM_UP_REQUEST, warmUpInput(options.config, shard.signature));
      runner.release(WARM_UP_REQUEST);
    }, { keep: options.profile ?? false, logger: shard.logger });
    return runner;
  }

  /** Where ORT runs the shard's nodes (from the load's warm-up run). */
  get placement(): Placement {
    return this.#profile?.placement ?? { providers: [] };
  }

  /**
   * Ends the profile kept with the `profile` load option and returns ORT's JSON trace.
   * @throws {TypeError} when the runner was not loaded with `profile` or it has ended.
   */
  async endProfile(): Promise<string> {
    if (this.#profile === null) throw new TypeError("Cannot end profiling: the shard has none");
    await this.#queue;
    return await this.#profile.end();
  }

  /** Whether the built graph came from the disk cache (conversion skipped). */
  get cacheHit(): boolean {
    return this.#cacheHit;
  }

  /** The provider the session runs on (CPU after a CoreML fallback). */
  get executionProvider(): ExecutionProvider {
    return this.#executionProvider;
  }

  /** Why the requested provider was not used, or null. */
  get fallbackReason(): string | null {
    return this.#fallbackReason;
  }

  /** The model config this shard was built from. */
  get config(): ModelConfig {
    return this.#config;
  }

  /** Names and layer range of the graph. */
  get signature(): ShardSignature {
    return this.#signature;
  }

  /** Longest context a request may reach. */
  get maxContext(): number {
    return this.#rope.maxPositions;
  }

  /** Ids of requests that hold a cache. */
  requestIds(): string[] {
    return [...this.#caches.keys()];
  }

  /** Tokens cached for `requestId` (0 when it has no cache). */
  cachedLength(requestId: string): number {
    return this.#caches.get(requestId)?.length ?? 0;
  }

  /** Frees a request's cache; returns whether it had one. */
  release(requestId: string): boolean {
    this.#batchPool.forget(requestId);
    const cache = this.#caches.get(requestId);
    if (cache === undefined) return false;
    this.#caches.delete(requestId);
    // Its memory goes back at once, once no queued step reads it any more.
    void this.#queue.then(() => {
      if (this.#caches.get(requestId) !== cache) cache.dispose();
    });
    return true;
  }

  /**
   * Runs the shard on the request's next tokens (prefill when seq > 1, decode when 1),
   * extending its cache. A failed step leaves the cache as it was.
   */
  step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    const run = this.#queue.then(() => this.#step(requestId, input));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs one decode token for each of several requests together (weights read once).
   * Every input must hold exactly one token; outputs come back in input order. A failed
   * batch leaves every cache as it was.
   */
  stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]> {
    const run = this.#queue.then(() => this.#stepBatch(items));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Frees every cache and the session; waits for a running step first. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue;
    await this.#profile?.discard();
    for (const cache of this.#caches.values()) cache.dispose();
    this.#caches.clear();
    this.#batchPool.clear();
    await this.#session.release();
  }

  async #step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    if (this.#disposed) throw new TypeError("Cannot run shard step: the runner is disposed");
    const { config } = this;
    const signature = this.#signature;
    const seq = checkShardInput(this.#config, this.#signature, input);
    let cache = this.#caches.get(requestId);
    const fresh = cache === undefined;
    cache ??= this.#newCache();
    cache.reserve(cache.length + seq);

    // Long prompts run in slices: attention scores take heads × slice × context floats.
    const startLength = cache.length;
    const outputs: Float32Array[] = [];
    try {
      for (let from = 0; from < seq; from += this.#prefillChunk) {
        const to = Math.min(seq, from + this.#prefillChunk);
        const slice: ShardInput = "tokenIds" in input
          ? { tokenIds: input.tokenIds.slice(from, to) }
          : {
            hidden: input.hidden.subarray(from * config.hiddenSize, to * config.hiddenSize),
            seq: to - from,
          };
        outputs.push(await this.#run(cache, slice, to - from));
      }
    } catch (error) {
      cache.truncate(startLength);
      throw error;
    }
    if (fresh) this.#caches.set(requestId, cache);

    if (signature.isLast) return { kind: "logits", logits: outputs[outputs.length - 1] };
    if (outputs.length === 1) return { kind: "hidden", hidden: outputs[0], seq };
    const hidden = new Float32Array(seq * config.hiddenSize); // [1, seq, hidden]
    let offset = 0;
    for (const part of outputs) {
      hidden.set(part, offset);
      offset += part.length;
    }
    return { kind: "hidden", hidden, seq };
  }

  async #stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]> {
    if (this.#disposed) throw new TypeError("Cannot run shard step: the runner is disposed");
    const ids = new Set(items.map((item) => item.requestId));
    if (items.length === 0 || ids.size !== items.length) {
      throw new RangeError("Cannot run batched step: give each request once, and at least one");
    }
    const hiddenSize = this.#config.hiddenSize;
    const tokenIds: number[] = [];
    const hidden = new Float32Array(this.#signature.isFirst ? 0 : items.length * hiddenSize);
    items.forEach(({ input }, b) => {
      if (checkShardInput(this.#config, this.#signature, input) !== 1) {
        throw new RangeError("Cannot run batched step: each request must bring exactly one token");
      }
      if ("tokenIds" in input) tokenIds.push(input.tokenIds[0]);
      else hidden.set(input.hidden, b * hiddenSize);
    });
    const caches = items.map(({ requestId }) => this.#caches.get(requestId) ?? this.#newCache());
    const lengths = caches.map((cache) => cache.length);
    let outputs: Float32Array[];
    try {
      for (const cache of caches) cache.reserve(cache.length + 1);
      outputs = await runDecodeBatch(
        {
          session: this.#session,
          signature: this.#signature,
          config: this.#config,
          kvType: this.#kvType,
          rope: this.#rope,
          pool: this.#batchPool,
        },
        items.map(({ requestId }, b) => ({ requestId, cache: caches[b] })),
        this.#signature.isFirst ? { tokenIds } : { hidden },
      );
    } catch (error) {
      caches.forEach((cache, b) => cache.truncate(lengths[b]));
      throw error;
    }
    items.forEach(({ requestId }, b) => this.#caches.set(requestId, caches[b]));
    return outputs.map((output): ShardOutput =>
      this.#signature.isLast
        ? { kind: "logits", logits: output }
        : { kind: "hidden", hidden: output, seq: 1 }
    );
  }

  /** A one-row past per head [1, kvHeads, 1, headDim], for a request with no rows yet. */
  #emptyPast(): { key: KvBuffer; value: KvBuffer } {
    const size = this.#config.numKvHeads * this.#config.headDim;
    const Buffer = this.#kvType === "float16" ? Uint16Array : Float32Array;
    this.#empty ??= { key: new Buffer(size), value: new Buffer(size) };
    return this.#empty;
  }

  #newCache(): KvCache {
    const config = this.#config;
    return new KvCache({
      elementType: this.#kvType,
      numLayers: this.#signature.layers.length,
      numHeads: config.numHeads,
      numKvHeads: config.numKvHeads,
      headDim: config.headDim,
      chunk: this.#cacheChunk,
      maxLength: this.#rope.maxPositions,
    });
  }

  /** Runs the session once over `seq` new tokens and appends their K/V to `cache`. */
  async #run(cache: KvCache, input: ShardInput, seq: number): Promise<Float32Array> {
    const config = this.#config;
    const signature = this.#signature;
    const feeds: Record<string, ort.Tensor> = {};
    feeds[signature.input] = "tokenIds" in input
      ? new ort.Tensor("int64", BigInt64Array.from(input.tokenIds, BigInt), [1, seq])
      : new ort.Tensor("float32", input.hidden, [1, seq, config.hiddenSize]);
    // Attention scores every past row, masked or not: an empty cache passes one masked row.
    const capacity = cache.length === 0 ? 1 : cache.capacity;
    Object.assign(feeds, attentionFeeds([cache.length], seq, capacity));
    const kvDims = [1, config.numKvHeads, 1, capacity, config.headDim]; // [batch, kvHeads, 1, capacity, headDim]
    const fetches: Record<string, null> = { [signature.output]: null };
    signature.layers.forEach((layer, i) => {
      const { key, value } = cache.length === 0 ? this.#emptyPast() : cache.layer(i);
      feeds[layer.pastKey] = new ort.Tensor(this.#kvType, key, kvDims);
      feeds[layer.pastValue] = new ort.Tensor(this.#kvType, value, kvDims);
      fetches[layer.qkv] = null;
    });

    const results = await this.#session.run(feeds, fetches);
    signature.layers.forEach((layer, i) => {
      cache.append(i, results[layer.qkv].data as KvBuffer, seq, this.#rope);
    });
    cache.commit(seq);
    return results[signature.output].data as Float32Array; // [1, seq, hidden] or [1, vocab]
  }
}
