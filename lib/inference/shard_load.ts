/**
 * What both shard runners do to load a shard: check the options, build the graph (or find
 * it in the cache, in a worker thread for big shards), and learn where ORT placed its nodes
 * from a profiled warm-up run.
 * @module
 */
import { type Logger, silentLogger } from "../log/logger.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { CheckpointReader } from "../model/checkpoint_reader.ts";
import type { ort } from "./onnx/ort_runtime.ts";
import type { ExecutionProvider } from "./onnx/ort_session.ts";
import { buildRopeTables, type RopeTables } from "./onnx/rope_tables.ts";
import { ensureShardModel } from "./onnx/shard_cache.ts";
import { buildShardInWorker } from "./onnx/build_shard_in_worker.ts";
import type { ShardAttention } from "./onnx/shard_graph.ts";
import { type ShardDType, type ShardSignature, shardSignature } from "./onnx/shard_signature.ts";
import { type Placement, placementFromProfile } from "./onnx/placement.ts";
import type { ShardInput } from "./shard_input.ts";

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
  /** Longest slice of a prompt run at once (default 64 on the CPU); bounds activation memory. */
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
  /**
   * Element type of the GroupQueryAttention graph's activations and cache (GqaShardRunner
   * only; default float16, float32 for float32 weights). bench:engine runs that graph on the
   * CPU in float32 as the fewest-node form of a shard ORT has.
   */
  activations?: "float32" | "float16";
  /**
   * Why a provider asked for earlier was given up, when the caller already fell back to
   * this runner (loadRunner's WebGPU fallback); reported as the runner's fallbackReason.
   */
  fallbackReason?: string | null;
  /**
   * Keep ORT's profiler on after the load's warm-up until the runner's `endProfile()`
   * (bench:engine --profile). Every run records while it is on: never for serving.
   */
  profile?: boolean;
  /**
   * Rewrites each checkpoint tensor before it goes into the graph; the build then runs in
   * this thread. For tests only (the provider probe's perturbWeights): a graph built with it
   * must never be cached where a shard without it would find it.
   */
  transformWeights?: (name: string, values: Float32Array) => Float32Array;
}

/** A shard whose graph is on disk, ready for a session. */
export interface PreparedShard {
  signature: ShardSignature;
  rope: RopeTables;
  cacheChunk: number;
  prefillChunk: number;
  modelPath: string;
  cacheHit: boolean;
  logger: Logger;
}

const DEFAULT_MAX_CONTEXT = 8192;
/** Shards above this many weights are converted in a worker thread (see buildShardInWorker). */
const WORKER_BUILD_PARAMETERS = 16 * 1024 * 1024;
const DEFAULT_CHUNK = 256;
/**
 * Prompt tokens run at once on the CPU. A slice's activations (attention scores alone are
 * heads × slice × context floats) are memory the prompt holds while it runs, and the C
 * allocator keeps some of it afterwards. Slices of 512 left smollm2-135m-like q4 at 522 MB
 * after a 512-token prompt, 128 at 429 MB (with the arena of that day). Slices of 64 against
 * 128, without the arena: llama-3.2-1b q4's peak RSS over a 512-token prompt 1058 against
 * 1163 MB, prefill as fast (149-158 against 150-156 tok/s; smollm2 q4 659-664 against
 * 656-668). A GPU shard takes longer slices (GqaShardRunner).
 */
const DEFAULT_PREFILL_CHUNK = 64;

/**
 * Checks the options and builds (or finds in the cache) the shard's graph of the given
 * attention and activation type.
 * @throws {RangeError} for a bad layer range, context length or chunk size.
 */
export async function prepareShard(
  options: ShardRunnerOptions,
  graph: { attention: ShardAttention; activations: "float32" | "float16" },
): Promise<PreparedShard> {
  const logger = options.logger ?? silentLogger;
  const { config } = options;
  const signature = shardSignature(config, options.startLayer, options.endLayer);
  const maxContext = servedContext(config, options.maxContext);
  const cacheChunk = options.cacheChunk ?? DEFAULT_CHUNK;
  const prefillChunk = options.prefillChunk ?? DEFAULT_PREFILL_CHUNK;
  for (
    const [name, value] of [["maxContext", maxContext], ["cacheChunk", cacheChunk], [
      "prefillChunk",
      prefillChunk,
    ]] as const
  ) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot load shard: ${name} must be a positive integer, got ${value}`);
    }
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
    attention: graph.attention,
    activations: graph.activations,
  };
  const transform = options.transformWeights;
  const inWorker = transform === undefined && (options.buildInWorker ??
    shardParameters(config, signature) > WORKER_BUILD_PARAMETERS);
  const cached = inWorker
    ? await buildShardInWorker(cacheRequest)
    : await ensureShardModel(cacheRequest, async () => {
      const reader = await CheckpointReader.open(options.modelDir);
      if (transform === undefined) return reader;
      return {
        readFloat32: async (name: string) => transform(name, await reader.readFloat32(name)),
        close: () => reader.close(),
      };
    });
  logger.info(
    `Shard ${options.startLayer}..${options.endLayer} ${options.dtype}: ${
      cached.hit ? "cached graph" : "built graph"
    } in ${(performance.now() - started).toFixed(0)} ms`,
  );
  return {
    signature,
    rope: ropeForCache(buildRopeTables(config, maxContext), graph.activations),
    cacheChunk,
    prefillChunk,
    modelPath: cached.modelPath,
    cacheHit: cached.hit,
    logger,
  };
}

/** The context a shard serves: `maxContext` when given, else the model's, at most 8192. */
export function servedContext(config: ModelConfig, maxContext?: number): number {
  return maxContext ?? Math.min(config.maxPositionEmbeddings, DEFAULT_MAX_CONTEXT);
}

/** A fresh directory to profile a session's warm-up run into. */
export function profileDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "exo-node-placement-" });
}

/**
 * A runner's ORT profile. The load's warm-up run is profiled to learn where ORT placed the
 * nodes; with the `profile` load option the profiler then stays on until {@linkcode end}.
 */
export class SessionProfile {
  #session: ort.InferenceSession;
  #dir: string | null;
  #placement: Placement = { providers: [] };

  private constructor(session: ort.InferenceSession, dir: string) {
    this.#session = session;
    this.#dir = dir;
  }

  /**
   * Runs `warmUp` on a session opened with profiling into `dir`. Unless `keep`, profiling
   * ends there and the placement is read (one that cannot be read is logged and reported
   * as empty rather than failing the load); `dir` is removed when profiling ends.
   */
  static async warmUp(
    session: ort.InferenceSession,
    dir: string,
    warmUp: () => Promise<void>,
    options: { keep: boolean; logger: Logger },
  ): Promise<SessionProfile> {
    const profile = new SessionProfile(session, dir);
    try {
      await warmUp();
      if (!options.keep) await profile.end();
    } catch (error) {
      options.logger.warn(`Cannot tell where the shard's nodes run: ${(error as Error).message}`);
      await profile.discard();
    }
    return profile;
  }

  /** Where ORT ran the nodes, once profiling has ended. */
  get placement(): Placement {
    return this.#placement;
  }

  /**
   * Ends profiling and returns the profile's JSON text (ORT's trace events).
   * @throws {TypeError} when profiling has already ended.
   */
  async end(): Promise<string> {
    const dir = this.#dir;
    if (dir === null) throw new TypeError("Cannot end profiling: it has already ended");
    this.#dir = null;
    const json = await readProfile(this.#session, dir);
    this.#placement = placementFromProfile(json);
    return json;
  }

  /** Removes a profile still being written (the runner is disposed). */
  async discard(): Promise<void> {
    const dir = this.#dir;
    this.#dir = null;
    if (dir !== null) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Ends profiling of `session`, opened with its profile prefix in `dir`, and returns the
 * profile's JSON text; the directory is removed.
 * @throws {Error} when no profile was written.
 */
async function readProfile(session: ort.InferenceSession, dir: string): Promise<string> {
  try {
    await session.endProfiling();
    const files = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".json")) files.push(entry.name);
    }
    if (files.length === 0) throw new Error(`no profile was written to ${dir}`);
    return await Deno.readTextFile(`${dir}/${files.sort().at(-1)}`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A one-token input for a warm-up run of the shard. */
export function warmUpInput(config: ModelConfig, signature: ShardSignature): ShardInput {
  return signature.isFirst
    ? { tokenIds: [0] }
    : { hidden: new Float32Array(config.hiddenSize), seq: 1 };
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
function ropeForCache(tables: RopeTables, activations: "float32" | "float16"): RopeTables {
  if (activations !== "float16") return tables;
  return {
    ...tables,
    cos: Float32Array.from(new Float16Array(tables.cos)),
    sin: Float32Array.from(new Float16Array(tables.sin)),
  };
}

/** Weights of one layer's projections (attention and MLP), roughly: norms are left out. */
export function layerParameters(config: ModelConfig): number {
  const { hiddenSize, numHeads, numKvHeads, headDim, intermediateSize } = config;
  const attention = 2 * hiddenSize * numHeads * headDim + 2 * hiddenSize * numKvHeads * headDim;
  return attention + 3 * hiddenSize * intermediateSize;
}

/** The shard's weight count, roughly: its layers' projections plus embedding or LM head. */
function shardParameters(config: ModelConfig, signature: ShardSignature): number {
  const layers = signature.endLayer - signature.startLayer + 1;
  const table = config.vocabSize * config.hiddenSize;
  return layers * layerParameters(config) + (signature.isFirst ? table : 0) +
    (signature.isLast ? table : 0);
}
