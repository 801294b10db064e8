import type { ModelConfig } from "../model/model_config.ts";
import type { KvBuffer, KvCache, KvElementType, LayerKv } from "./kv_cache.ts";
import { ort } from "./onnx/ort_runtime.ts";
import type { RopeTables } from "./onnx/rope_tables.ts";
import { SEQLENS_K, type ShardSignature, TOTAL_SEQUENCE_LENGTH } from "./onnx/shard_signature.ts";

/** What a batched step needs from its runner. */
export interface BatchContext {
  session: ort.InferenceSession;
  signature: ShardSignature;
  config: ModelConfig;
  kvType: KvElementType;
  rope: RopeTables;
  /** Reused batch buffers, so steady decoding allocates nothing. */
  pool: BatchKvPool;
}

/**
 * Per-layer batch K/V buffers kept between batched steps of the same shape. Stale rows
 * need no clearing: GroupQueryAttention reads only each request's valid prefix.
 */
export class BatchKvPool {
  #shape = "";
  #layers: LayerKv[] = [];

  /** Buffers [batch, kvHeads, capacity, headDim] for each of `layers` layers. */
  take(
    type: KvElementType,
    layers: number,
    batch: number,
    kvHeads: number,
    capacity: number,
    headDim: number,
  ): LayerKv[] {
    const shape = [type, layers, batch, kvHeads, capacity, headDim].join();
    if (shape !== this.#shape) {
      const Buffer = type === "float16" ? Uint16Array : Float32Array;
      const size = batch * kvHeads * capacity * headDim;
      this.#layers = Array.from({ length: layers }, () => ({
        key: new Buffer(size),
        value: new Buffer(size),
      }));
      this.#shape = shape;
    }
    return this.#layers;
  }

  /** Drops the buffers. */
  clear(): void {
    this.#shape = "";
    this.#layers = [];
  }
}

/** One token per request: ids on the first shard, hidden rows on the others. */
export type BatchInput =
  | { tokenIds: number[] } // [batch]
  | { hidden: Float32Array }; // [batch, 1, hidden]

/**
 * Runs one decode token for each of several requests in a single session call, so the
 * weights are read once for the whole batch. GroupQueryAttention takes one past buffer
 * [batch, kvHeads, capacity, headDim] and per-request lengths in `seqlens_k`, so each
 * request's valid rows are copied into a shared batch buffer first: that copy grows with
 * the context, which is why single requests keep the zero-copy path.
 * Returns each request's output ([hidden] or [vocab]); caches must have room for one row.
 */
export async function runDecodeBatch(
  context: BatchContext,
  caches: KvCache[],
  input: BatchInput,
): Promise<Float32Array[]> {
  const { session, signature, config, kvType, rope, pool } = context;
  const batch = caches.length;
  const feeds: Record<string, ort.Tensor> = {};
  feeds[signature.input] = "tokenIds" in input
    ? new ort.Tensor("int64", BigInt64Array.from(input.tokenIds, BigInt), [batch, 1])
    : new ort.Tensor("float32", input.hidden, [batch, 1, config.hiddenSize]);
  const totals = caches.map((cache) => cache.length + 1);
  feeds[SEQLENS_K] = new ort.Tensor("int32", Int32Array.from(totals, (t) => t - 1), [batch]);
  feeds[TOTAL_SEQUENCE_LENGTH] = new ort.Tensor("int32", Int32Array.of(Math.max(...totals)), []);
  const capacity = Math.max(...caches.map((cache) => cache.capacity));
  const kvDims = [batch, config.numKvHeads, capacity, config.headDim]; // [batch, kvHeads, capacity, headDim]
  const buffers = pool.take(
    kvType,
    signature.layers.length,
    batch,
    config.numKvHeads,
    capacity,
    config.headDim,
  );
  const fetches: Record<string, null> = { [signature.output]: null };
  signature.layers.forEach((layer, i) => {
    const target = buffers[i];
    caches.forEach((cache, slot) => cache.copyInto(i, target, slot, capacity));
    feeds[layer.pastKey] = new ort.Tensor(kvType, target.key, kvDims);
    feeds[layer.pastValue] = new ort.Tensor(kvType, target.value, kvDims);
    fetches[layer.qkv] = null;
  });

  const results = await session.run(feeds, fetches);
  const width = (config.numHeads + 2 * config.numKvHeads) * config.headDim;
  signature.layers.forEach((layer, i) => {
    const qkv = results[layer.qkv].data as KvBuffer; // [batch, 1, width]
    caches.forEach((cache, b) =>
      cache.append(i, qkv.subarray(b * width, (b + 1) * width), 1, rope)
    );
  });
  for (const cache of caches) cache.commit(1);
  const output = results[signature.output].data as Float32Array; // [batch, 1, hidden] or [batch, vocab]
  const rowLength = output.length / batch;
  return caches.map((_, b) => output.slice(b * rowLength, (b + 1) * rowLength));
}
