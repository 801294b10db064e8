import { buildStagedDir, pathExists } from "../../fs/staged_dir.ts";
import type { ModelConfig } from "../../model/model_config.ts";
import {
  activationType,
  buildShardGraph,
  SHARD_GRAPH_VERSION,
  type ShardAttention,
  type WeightSource,
} from "./shard_graph.ts";
import type { ShardDType } from "./shard_signature.ts";

/** What a cached shard model depends on. */
export interface ShardCacheRequest {
  modelDir: string;
  config: ModelConfig;
  startLayer: number;
  endLayer: number;
  dtype: ShardDType;
  maxPositions: number;
  /** How attention is built (default "masked"; see ShardGraphOptions). */
  attention?: ShardAttention;
  /** Activation element type (default from the dtype; see ShardGraphOptions). */
  activations?: "float32" | "float16";
  /** Directory holding one sub-directory per built shard. */
  cacheDir: string;
}

/** A built shard model on disk. */
export interface CachedShard {
  /** The .onnx file; its external data file sits beside it. */
  modelPath: string;
  /** True when the model was already built and conversion was skipped. */
  hit: boolean;
  key: string;
}

const MODEL_FILE = "shard.onnx";
const DATA_FILE = "shard.onnx.data";
const DONE_FILE = "complete";

/**
 * Returns the shard's .onnx path, building it first unless an identical build is cached.
 * The key covers the model files' names, sizes and mtimes, the layer range, dtype, context
 * length and builder version. Builds go to a temporary directory renamed into place, so a
 * crash mid-build never leaves a half-written shard that a later load would trust.
 */
export async function ensureShardModel(
  request: ShardCacheRequest,
  openWeights: () => Promise<WeightSource & { close?(): void }>,
): Promise<CachedShard> {
  const hit = await cachedShard(request);
  if (hit !== null) return hit;
  const key = await shardCacheKey(request);
  const dir = `${request.cacheDir}/${key}`;
  const modelPath = `${dir}/${MODEL_FILE}`;

  const weights = await openWeights();
  try {
    // Another process that finishes the same build first leaves a copy as good as ours.
    await buildStagedDir(dir, DONE_FILE, new Date().toISOString(), async (staging) => {
      await buildShardGraph(
        weights,
        request,
        `${staging}/${MODEL_FILE}`,
        `${staging}/${DATA_FILE}`,
      );
    });
  } finally {
    weights.close?.();
  }
  return { modelPath, hit: false, key };
}

/** The shard's finished build in the cache, or null when there is none. */
export async function cachedShard(request: ShardCacheRequest): Promise<CachedShard | null> {
  const key = await shardCacheKey(request);
  const dir = `${request.cacheDir}/${key}`;
  if (!(await pathExists(`${dir}/${DONE_FILE}`))) return null;
  return { modelPath: `${dir}/${MODEL_FILE}`, hit: true, key };
}

/**
 * What a model directory's files are, for keys that must change with them: each file's
 * name, size and mtime (ms), sorted by name.
 */
export async function modelFilesIdentity(modelDir: string): Promise<[string, number, number][]> {
  const files: [string, number, number][] = [];
  for await (const entry of Deno.readDir(modelDir)) {
    if (!entry.isFile) continue;
    const stat = await Deno.stat(`${modelDir}/${entry.name}`);
    files.push([entry.name, stat.size, stat.mtime?.getTime() ?? 0]);
  }
  return files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Moves every finished shard build in `fromDir` (another cache directory, on the same
 * file system) into `cacheDir`, unless `cacheDir` already holds it; returns how many moved.
 */
export async function adoptShardGraphs(fromDir: string, cacheDir: string): Promise<number> {
  let moved = 0;
  for await (const entry of Deno.readDir(fromDir)) {
    const from = `${fromDir}/${entry.name}`;
    if (!entry.isDirectory || !(await pathExists(`${from}/${DONE_FILE}`))) continue;
    if (await pathExists(`${cacheDir}/${entry.name}/${DONE_FILE}`)) continue;
    await Deno.mkdir(cacheDir, { recursive: true });
    await Deno.rename(from, `${cacheDir}/${entry.name}`);
    moved++;
  }
  return moved;
}

/** The cache key (hex SHA-256) of a shard build. */
export async function shardCacheKey(request: ShardCacheRequest): Promise<string> {
  const files = await modelFilesIdentity(request.modelDir);
  const identity = JSON.stringify({
    builder: SHARD_GRAPH_VERSION,
    config: request.config,
    startLayer: request.startLayer,
    endLayer: request.endLayer,
    dtype: request.dtype,
    maxPositions: request.maxPositions,
    attention: request.attention ?? "masked",
    activations: activationType(request),
    files,
  });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(identity));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
