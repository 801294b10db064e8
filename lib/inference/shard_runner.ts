import { type Logger, silentLogger } from "../log/logger.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { CheckpointReader } from "../model/checkpoint_reader.ts";
import { type KvBuffer, KvCache, type KvElementType } from "./kv_cache.ts";
import { BatchKvPool, runDecodeBatch } from "./decode_batch.ts";
import { checkShardInput, type ShardInput, type ShardOutput } from "./shard_input.ts";

export type { ShardInput, ShardOutput } from "./shard_input.ts";
import { ort } from "./onnx/ort_runtime.ts";
import { type ExecutionProvider, openSession } from "./onnx/ort_session.ts";
import { buildRopeTables, type RopeTables } from "./onnx/rope_tables.ts";
import { ensureShardModel } from "./onnx/shard_cache.ts";
import { buildShardInWorker } from "./onnx/build_shard_in_worker.ts";
import { type ShardDType, type ShardSignature, shardSignature } from "./onnx/shard_signature.ts";
import { attentionFeeds } from "./attention_feeds.ts";

/** How to load one shard. */
export interface ShardRunnerOptions {
  /** Hugging Face model directory (config.json + safetensors). */
  modelDir: string;
  config: ModelConfig;
  /** First layer held (inclusive). */
  startLayer: number;
  /** Last layer held (inclusive), as in the topology's ShardRange. */
  endLayer: number;
  /** Where built shard graphs are cached. */
  cacheDir: string;
  dtype: ShardDType;
  executionProvider: ExecutionProvider;
  /** Intra-op threads (default 2). */
  threads?: number;
  /** Longest context served (default min(maxPositionEmbeddings, 8192)). */
  maxContext?: number;
  /** KV cache growth step in tokens (default 256). */
  cacheChunk?: number;
  /** Longest slice of a prompt run at once (default 512); bounds attention scratch memory. */
  prefillChunk?: number;
  /**
   * Whether ORT repacks weights at load (default: all but float32). Float32 decodes a single
   * request as fast from the mapped weights, but batched steps and prefill repack every
   * weight on each call without it: batch 4 gave 1.55x over batch 1 unpacked and 2.2x
   * packed (smollm2-135m-like, bench:batch), for about 300 MB more resident memory there.
   */
  prepackWeights?: boolean;
  logger?: Logger;
  /**
   * Convert the checkpoint in a worker thread, so this thread's event loop (peer pings,
   * the API) stays responsive. Default: for shards above 16M weights; smaller ones convert
   * in well under a second here.
   */
  buildInWorker?: boolean;
}

const DEFAULT_MAX_CONTEXT = 8192;
/** Shards above this many weights are converted in a worker thread (see buildShardInWorker). */
const WORKER_BUILD_PARAMETERS = 16 * 1024 * 1024;
const DEFAULT_CHUNK = 256;
const DEFAULT_PREFILL_CHUNK = 512;

/**
 * Runs one pipeline shard (a contiguous range of layers) in one ORT session, keeping a
 * KV cache per request id. A request's cache is created by its first step and lives until
 * `release`. Steps run one at a time, in call order.
 */
export class ShardRunner {
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
    const logger = options.logger ?? silentLogger;
    const { config } = options;
    const signature = shardSignature(config, options.startLayer, options.endLayer);
    const maxContext = options.maxContext ??
      Math.min(config.maxPositionEmbeddings, DEFAULT_MAX_CONTEXT);
    if (!Number.isInteger(maxContext) || maxContext < 1) {
      throw new RangeError(
        `Cannot load shard: maxContext must be a positive integer, got ${maxContext}`,
      );
    }
    const cacheChunk = options.cacheChunk ?? DEFAULT_CHUNK;
    if (!Number.isInteger(cacheChunk) || cacheChunk < 1) {
      throw new RangeError(
        `Cannot load shard: cacheChunk must be a positive integer, got ${cacheChunk}`,
      );
    }
    const prefillChunk = options.prefillChunk ?? DEFAULT_PREFILL_CHUNK;
    if (!Number.isInteger(prefillChunk) || prefillChunk < 1) {
      throw new RangeError(
        `Cannot load shard: prefillChunk must be a positive integer, got ${prefillChunk}`,
      );
    }
    const started = performance.now();
    const cacheRequest = {
      modelDir: options.modelDir,
      config,
      startLayer: options.startLayer,
      endLayer: options.endLayer,
      dtype: options.dtype,
      maxPositions: maxContext,
      cacheDir: options.cacheDir,
    };
    const inWorker = options.buildInWorker ??
      shardParameters(config, signature) > WORKER_BUILD_PARAMETERS;
    const cached = inWorker
      ? await buildShardInWorker(cacheRequest)
      : await ensureShardModel(cacheRequest, () => CheckpointReader.open(options.modelDir));
    logger.info(
      `Shard ${options.startLayer}..${options.endLayer} ${options.dtype}: ${
        cached.hit ? "cached graph" : "built graph"
      } in ${(performance.now() - started).toFixed(0)} ms`,
    );
    const opened = await openSession({
      modelPath: cached.modelPath,
      executionProvider: options.executionProvider,
      threads: options.threads,
      prepackWeights: options.prepackWeights ?? prepacksWeights(options.dtype),
    }, logger);
    return new ShardRunner(
      config,
      opened.session,
      signature,
      ropeForCache(buildRopeTables(config, maxContext), options.dtype),
      cacheChunk,
      prefillChunk,
      options.dtype === "float16" ? "float16" : "float32",
      {
        cacheHit: cached.hit,
        executionProvider: opened.executionProvider,
        fallbackReason: opened.fallbackReason,
      },
    );
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
    return this.#caches.delete(requestId);
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
    const kvDims = [1, config.numKvHeads, capacity, config.headDim]; // [batch, kvHeads, capacity, headDim]
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

/**
 * Whether a shard of `dtype` has ORT repack its weights at load by default. Float32 MatMuls
 * decode one request as fast from the mapped weights as from a packed copy (see
 * sessionOptions); q4's MatMulNBits needs the copy, and float16 was not measured enough.
 */
export function prepacksWeights(dtype: ShardDType): boolean {
  return dtype !== "float32";
}

/**
 * The rotary tables the cache rotates K with: the graph's own, so a float16 graph's
 * half-precision tables are rounded the same way here and cached K matches the op's.
 */
function ropeForCache(tables: RopeTables, dtype: ShardDType): RopeTables {
  if (dtype !== "float16") return tables;
  return {
    ...tables,
    cos: Float32Array.from(new Float16Array(tables.cos)),
    sin: Float32Array.from(new Float16Array(tables.sin)),
  };
}

/** The shard's weight count, roughly: its layers' projections plus embedding or LM head. */
function shardParameters(config: ModelConfig, signature: ShardSignature): number {
  const { hiddenSize, numHeads, numKvHeads, headDim, intermediateSize, vocabSize } = config;
  const attention = 2 * hiddenSize * numHeads * headDim + 2 * hiddenSize * numKvHeads * headDim;
  const perLayer = attention + 3 * hiddenSize * intermediateSize;
  const layers = signature.endLayer - signature.startLayer + 1;
  const table = vocabSize * hiddenSize;
  return layers * perLayer + (signature.isFirst ? table : 0) + (signature.isLast ? table : 0);
}
