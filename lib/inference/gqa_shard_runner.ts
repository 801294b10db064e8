import type { ModelConfig } from "../model/model_config.ts";
import { checkShardInput, type ShardInput, type ShardOutput } from "./shard_input.ts";
import { ort } from "./onnx/ort_runtime.ts";
import { type ExecutionProvider, openSession } from "./onnx/ort_session.ts";
import type { Placement } from "./onnx/placement.ts";
import { checkGqaPrefill } from "./onnx/gqa_prefill_check.ts";
import { SEQLENS_K, type ShardSignature, TOTAL_SEQUENCE_LENGTH } from "./onnx/shard_signature.ts";
import {
  prepacksWeights,
  prepareShard,
  profileDir,
  SessionProfile,
  type ShardRunnerOptions,
  warmUpInput,
} from "./shard_load.ts";
import { type LoadedRunner, WARM_UP_REQUEST } from "./shard_runner.ts";

/** Prompt tokens a GPU shard runs at once: a GPU gains from long slices (the CPU takes 128). */
const GPU_PREFILL_CHUNK = 512;

/** One request's cache: each layer's present K and V from its last step, and its length. */
interface DeviceCache {
  length: number;
  /** Per layer: [1, kvHeads, length, headDim], on the device for a GPU session. */
  keys: ort.Tensor[];
  values: ort.Tensor[];
}

/**
 * Runs one pipeline shard built with GroupQueryAttention (see gqa_attention_emitter.ts),
 * for the WebGPU provider: each layer's present K/V stays on the GPU
 * (`preferredOutputLocation: "gpu-buffer"`) and is fed back as the next step's past, so
 * only the hidden state or the logits come back to JS. Device tensors are never read
 * with `getData()` (that aborts the process under Deno); they are disposed when replaced
 * or released. A request is one sequence: several requests' decode steps run one after
 * another.
 */
export class GqaShardRunner implements LoadedRunner {
  readonly config: ModelConfig;
  readonly signature: ShardSignature;
  readonly maxContext: number;
  readonly cacheHit: boolean;
  readonly executionProvider: ExecutionProvider;
  readonly fallbackReason: string | null;
  #session: ort.InferenceSession;
  #prefillChunk: number;
  #caches = new Map<string, DeviceCache>();
  #empty: ort.Tensor;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;
  #profile: SessionProfile | null = null;

  private constructor(
    config: ModelConfig,
    session: ort.InferenceSession,
    signature: ShardSignature,
    loaded: {
      maxContext: number;
      prefillChunk: number;
      kvType: "float32" | "float16";
      cacheHit: boolean;
      executionProvider: ExecutionProvider;
      fallbackReason: string | null;
    },
  ) {
    this.config = config;
    this.#session = session;
    this.signature = signature;
    this.maxContext = loaded.maxContext;
    this.#prefillChunk = loaded.prefillChunk;
    this.cacheHit = loaded.cacheHit;
    this.executionProvider = loaded.executionProvider;
    this.fallbackReason = loaded.fallbackReason;
    const Buffer = loaded.kvType === "float16" ? Uint16Array : Float32Array;
    // [1, kvHeads, 0, headDim]: the past of a request's first step.
    this.#empty = new ort.Tensor(loaded.kvType, new Buffer(0), [
      1,
      config.numKvHeads,
      0,
      config.headDim,
    ]);
  }

  /**
   * Builds (or finds) the GroupQueryAttention graph of the shard, with float16 activations
   * and cache unless the weights are float32 (or `activations` says otherwise), and opens
   * its session. On WebGPU, prompts run
   * in slices as long as the GPU's attention is checked to compute right (see
   * gqa_prefill_check.ts).
   * @throws {RangeError} for a bad layer range, context length or thread count.
   */
  static async load(options: ShardRunnerOptions): Promise<GqaShardRunner> {
    const kvType = options.activations ?? (options.dtype === "float32" ? "float32" : "float16");
    const shard = await prepareShard(
      { ...options, prefillChunk: options.prefillChunk ?? GPU_PREFILL_CHUNK },
      { attention: "gqa", activations: kvType },
    );
    const presents = shard.signature.layers.flatMap((l) => [l.presentKey, l.presentValue]);
    const profile = await profileDir();
    const opened = await openSession({
      modelPath: shard.modelPath,
      executionProvider: options.executionProvider,
      threads: options.threads,
      prepackWeights: options.prepackWeights ?? prepacksWeights(options.dtype),
      deviceOutputs: presents,
      profilePrefix: `${profile}/warm-up`,
    }, shard.logger).catch(async (error) => {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    });
    let prefillChunk = shard.prefillChunk;
    if (opened.executionProvider === "webgpu") {
      const check = await checkGqaPrefill(options.config, kvType, prefillChunk).catch(
        async (error) => {
          await opened.session.release();
          await Deno.remove(profile, { recursive: true }).catch(() => {});
          throw error;
        },
      );
      if (check.reason !== null) shard.logger.warn(`WebGPU: ${check.reason}`);
      prefillChunk = check.chunk;
    }
    const runner = new GqaShardRunner(options.config, opened.session, shard.signature, {
      maxContext: shard.rope.maxPositions,
      prefillChunk,
      kvType,
      cacheHit: shard.cacheHit,
      executionProvider: opened.executionProvider,
      fallbackReason: opened.fallbackReason,
    });
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

  /** Ids of requests that hold a cache. */
  requestIds(): string[] {
    return [...this.#caches.keys()];
  }

  /** Tokens cached for `requestId` (0 when it has no cache). */
  cachedLength(requestId: string): number {
    return this.#caches.get(requestId)?.length ?? 0;
  }

  /**
   * Where the request's KV cache lives: "gpu-buffer" on a GPU session, "cpu" after a
   * fallback to the CPU; null when the request holds none.
   */
  cacheLocation(requestId: string): string | null {
    return this.#caches.get(requestId)?.keys[0]?.location ?? null;
  }

  /** Frees a request's device cache; returns whether it had one. */
  release(requestId: string): boolean {
    const cache = this.#caches.get(requestId);
    if (cache === undefined) return false;
    this.#caches.delete(requestId);
    disposeAll(cache);
    return true;
  }

  /**
   * Runs the shard on the request's next tokens (prefill when seq > 1, decode when 1). A
   * failed step leaves the cache as it was.
   */
  step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    const run = this.#queue.then(() => this.#step(requestId, input));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs one decode token for each request, one after another (GroupQueryAttention on the
   * GPU takes one sequence at a time). A failed request fails the batch; the requests
   * before it keep their new token.
   */
  stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]> {
    const ids = new Set(items.map((item) => item.requestId));
    if (items.length === 0 || ids.size !== items.length) {
      return Promise.reject(
        new RangeError("Cannot run batched step: give each request once, and at least one"),
      );
    }
    for (const { input } of items) {
      if (checkShardInput(this.config, this.signature, input) !== 1) {
        return Promise.reject(
          new RangeError("Cannot run batched step: each request must bring exactly one token"),
        );
      }
    }
    return Promise.all(items.map(({ requestId, input }) => this.step(requestId, input)));
  }

  /** Frees every cache and the session; waits for a running step first. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue;
    await this.#profile?.discard();
    for (const cache of this.#caches.values()) disposeAll(cache);
    this.#caches.clear();
    await this.#session.release();
  }

  async #step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    if (this.#disposed) throw new TypeError("Cannot run shard step: the runner is disposed");
    const seq = checkShardInput(this.config, this.signature, input);
    const start = this.#caches.get(requestId) ?? null;
    if ((start?.length ?? 0) + seq > this.maxContext) {
      throw new RangeError(
        `Cannot run shard step: ${
          (start?.length ?? 0) + seq
        } tokens exceed the context of ${this.maxContext}`,
      );
    }
    const hidden = this.config.hiddenSize;
    let cache = start;
    const outputs: Float32Array[] = [];
    try {
      for (let from = 0; from < seq; from += this.#prefillChunk) {
        const to = Math.min(seq, from + this.#prefillChunk);
        const slice: ShardInput = "tokenIds" in input
          ? { tokenIds: input.tokenIds.slice(from, to) }
          : { hidden: input.hidden.subarray(from * hidden, to * hidden), seq: to - from };
        const next = await this.#run(cache, slice, to - from);
        // A slice's past is replaced by its present; the caller's start stays until the end.
        if (cache !== null && cache !== start) disposeAll(cache);
        cache = next.cache;
        outputs.push(next.output);
      }
    } catch (error) {
      if (cache !== null && cache !== start) disposeAll(cache);
      throw error;
    }
    if (start !== null) disposeAll(start);
    this.#caches.set(requestId, cache!);
    if (this.signature.isLast) return { kind: "logits", logits: outputs[outputs.length - 1] };
    if (outputs.length === 1) return { kind: "hidden", hidden: outputs[0], seq };
    const joined = new Float32Array(seq * hidden); // [1, seq, hidden]
    let offset = 0;
    for (const part of outputs) {
      joined.set(part, offset);
      offset += part.length;
    }
    return { kind: "hidden", hidden: joined, seq };
  }

  /** Runs the session once over `seq` new tokens after `cache` (null: none yet). */
  async #run(
    cache: DeviceCache | null,
    input: ShardInput,
    seq: number,
  ): Promise<{ cache: DeviceCache; output: Float32Array }> {
    const signature = this.signature;
    const past = cache?.length ?? 0;
    const total = past + seq;
    const feeds: Record<string, ort.Tensor> = {
      [signature.input]: "tokenIds" in input
        ? new ort.Tensor("int64", BigInt64Array.from(input.tokenIds, BigInt), [1, seq])
        : new ort.Tensor("float32", input.hidden, [1, seq, this.config.hiddenSize]),
      [SEQLENS_K]: new ort.Tensor("int32", Int32Array.of(total - 1), [1]),
      [TOTAL_SEQUENCE_LENGTH]: new ort.Tensor("int32", Int32Array.of(total), [1]),
    };
    signature.layers.forEach((layer, i) => {
      feeds[layer.pastKey] = cache?.keys[i] ?? this.#empty;
      feeds[layer.pastValue] = cache?.values[i] ?? this.#empty;
    });
    const results = await this.#session.run(feeds);
    const next: DeviceCache = {
      length: total,
      keys: signature.layers.map((layer) => results[layer.presentKey]),
      values: signature.layers.map((layer) => results[layer.presentValue]),
    };
    // The output is a CPU tensor (only the presents are asked for on the device).
    return { cache: next, output: results[signature.output].data as Float32Array };
  }
}

function disposeAll(cache: DeviceCache): void {
  for (const tensor of [...cache.keys, ...cache.values]) {
    if (tensor.location === "gpu-buffer") tensor.dispose();
  }
}
