import type { ModelConfig } from "../model/model_config.ts";
import type { KvBuffer, KvCache, KvElementType, LayerKv } from "./kv_cache.ts";
import { ort } from "./onnx/ort_runtime.ts";
import type { RopeTables } from "./onnx/rope_tables.ts";
import type { ShardSignature } from "./onnx/shard_signature.ts";
import { attentionFeeds } from "./attention_feeds.ts";

/** What a batched step needs from its runner. */
export interface BatchContext {
  session: ort.InferenceSession;
  signature: ShardSignature;
  config: ModelConfig;
  kvType: KvElementType;
  rope: RopeTables;
  /** Batch buffers kept between steps, so a steady batch copies only its new rows. */
  pool: BatchKvPool;
}

/** One request of a batch: its id (which keys the batch buffers) and its cache. */
export interface BatchEntry {
  requestId: string;
  cache: KvCache;
}

/** The dimensions of an arena's buffers. */
export interface ArenaShape {
  type: KvElementType;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/** Rows a batch buffer grows by: small, since attention scores every row, masked or not. */
const ARENA_CHUNK = 32;
/** Batch buffer sets kept at once (one per recent batch membership). */
const MAX_ARENAS = 3;
/**
 * Most slots an arena widened to the union of recent batches holds. An idle slot still
 * costs its row of every MatMul and its attention, which decode pays far less for than the
 * full copy a new membership takes.
 */
const MAX_UNION_SLOTS = 8;

/**
 * The K/V buffers of one batch membership, [batch, kvHeads, capacity, headDim] per layer,
 * with request `requestIds[b]` in row b. Each request's own {@linkcode KvCache} stays the source
 * of truth; a slot mirrors its first `synced` rows, so a batch that runs again with the same
 * requests copies only the rows added since (one per request per step).
 */
export class BatchKvArena {
  readonly requestIds: string[];
  #caches: (KvCache | null)[];
  #synced: number[];
  #revisions: number[];
  #capacity = 0;
  #layers: LayerKv[] = [];

  /** An empty arena for these requests, slot b holding `requestIds[b]`. */
  constructor(requestIds: string[]) {
    this.requestIds = requestIds;
    this.#caches = requestIds.map(() => null);
    this.#synced = requestIds.map(() => 0);
    this.#revisions = requestIds.map(() => 0);
  }

  /** Slots, one per request. */
  get size(): number {
    return this.requestIds.length;
  }

  /** Rows per head of every slot. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes held by the buffers. */
  get byteLength(): number {
    return this.#layers.reduce((sum, l) => sum + l.key.byteLength + l.value.byteLength, 0);
  }

  /**
   * Brings every slot up to date with `caches` (in slot order; null for a slot sitting this
   * step out, whose rows are left as they are), growing the buffers when a request needs
   * more than `capacity` rows, and returns them.
   */
  sync(caches: (KvCache | null)[], shape: ArenaShape, rows: number): LayerKv[] {
    const { type, numLayers, numKvHeads, headDim } = shape;
    if (caches.length !== this.requestIds.length) {
      throw new RangeError(
        `Cannot fill batch buffers: got ${caches.length} caches for ${this.requestIds.length} slots`,
      );
    }
    if (rows > this.#capacity || this.#layers.length !== numLayers) {
      const capacity = Math.ceil(rows / ARENA_CHUNK) * ARENA_CHUNK;
      const Buffer = type === "float16" ? Uint16Array : Float32Array;
      const size = caches.length * numKvHeads * capacity * headDim;
      this.#layers = Array.from({ length: numLayers }, () => ({
        key: new Buffer(size),
        value: new Buffer(size),
      }));
      this.#capacity = capacity;
      this.#synced.fill(0);
    }
    caches.forEach((cache, slot) => {
      if (cache === null) return;
      if (this.#caches[slot] !== cache || this.#revisions[slot] !== cache.revision) {
        this.#caches[slot] = cache;
        this.#revisions[slot] = cache.revision;
        this.#synced[slot] = 0;
      }
      const from = Math.min(this.#synced[slot], cache.length);
      if (from === cache.length) return;
      for (let i = 0; i < numLayers; i++) {
        cache.copyInto(i, this.#layers[i], slot, this.#capacity, from);
      }
      this.#synced[slot] = cache.length;
    });
    return this.#layers;
  }
}

/**
 * The batch buffers of the last few batch memberships. Orchestration batches whichever
 * requests are ready together, so a handful of memberships recur (e.g. two groups taking
 * turns around a two-node ring); each keeps its own buffers and copies only new rows.
 */
export class BatchKvPool {
  /** Most recently used last. */
  #arenas: BatchKvArena[] = [];

  /**
   * The arena for these requests and the slot each takes (input index → slot). The
   * smallest kept arena holding all of them serves, its other slots sitting the step out:
   * batches of a few concurrent requests come in changing groups (whichever steps are ready
   * together), and each new membership would copy every cached row. A new arena takes the
   * most recent arena's requests too, so the groups of one set of requests share one arena.
   */
  take(requestIds: string[]): { arena: BatchKvArena; slots: number[] } {
    let index = -1;
    this.#arenas.forEach((arena, i) => {
      const holdsAll = requestIds.every((id) => arena.requestIds.includes(id));
      if (holdsAll && (index < 0 || arena.size < this.#arenas[index].size)) index = i;
    });
    if (index === -1) {
      const recent = this.#arenas.at(-1)?.requestIds ?? [];
      const union = [...requestIds, ...recent.filter((id) => !requestIds.includes(id))];
      const members = union.length <= MAX_UNION_SLOTS ? union : [...requestIds];
      if (this.#arenas.length >= MAX_ARENAS) this.#arenas.shift();
      this.#arenas.push(new BatchKvArena(members));
      index = this.#arenas.length - 1;
    }
    const [arena] = this.#arenas.splice(index, 1);
    this.#arenas.push(arena);
    return { arena, slots: requestIds.map((id) => arena.requestIds.indexOf(id)) };
  }

  /** Drops the buffers of every batch the request was in (call when its cache is freed). */
  forget(requestId: string): void {
    this.#arenas = this.#arenas.filter((arena) => !arena.requestIds.includes(requestId));
  }

  /** Bytes held by every kept arena. */
  get byteLength(): number {
    return this.#arenas.reduce((sum, arena) => sum + arena.byteLength, 0);
  }

  /** Drops every buffer. */
  clear(): void {
    this.#arenas = [];
  }
}

/** One token per request: ids on the first shard, hidden rows on the others. */
export type BatchInput =
  | { tokenIds: number[] } // [batch]
  | { hidden: Float32Array }; // [batch, 1, hidden]

/**
 * Runs one decode token for each of several requests in a single session call, so the
 * weights are read once for the whole batch. The graph's attention takes one past buffer
 * [batch, kvHeads, capacity, headDim] and masks each request's unfilled rows; the pool keeps
 * that buffer per batch membership, so steady decoding copies one new row per request and
 * layer instead of every cached row.
 * Returns each request's output ([hidden] or [vocab]) in input order; caches must have room
 * for one row.
 */
export async function runDecodeBatch(
  context: BatchContext,
  entries: BatchEntry[],
  input: BatchInput,
): Promise<Float32Array[]> {
  const { session, signature, config, kvType, rope, pool } = context;
  const { arena, slots } = pool.take(entries.map((entry) => entry.requestId));
  const batch = arena.size;
  // Slot order; null for the arena's requests not in this step, which run a dummy token
  // (id 0 or a zero hidden state, position 0, no past) whose outputs are dropped.
  const caches: (KvCache | null)[] = new Array(batch).fill(null);
  entries.forEach((entry, b) => caches[slots[b]] = entry.cache);

  const feeds: Record<string, ort.Tensor> = {};
  if ("tokenIds" in input) {
    const ids = new BigInt64Array(batch); // [batch, 1]
    input.tokenIds.forEach((id, b) => ids[slots[b]] = BigInt(id));
    feeds[signature.input] = new ort.Tensor("int64", ids, [batch, 1]);
  } else {
    const hiddenSize = config.hiddenSize;
    const hidden = new Float32Array(batch * hiddenSize); // [batch, 1, hidden]
    slots.forEach((slot, b) => {
      hidden.set(input.hidden.subarray(b * hiddenSize, (b + 1) * hiddenSize), slot * hiddenSize);
    });
    feeds[signature.input] = new ort.Tensor("float32", hidden, [batch, 1, hiddenSize]);
  }
  const lengths = caches.map((cache) => cache?.length ?? 0);
  const buffers = arena.sync(caches, {
    type: kvType,
    numLayers: signature.layers.length,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
  }, Math.max(...lengths));
  Object.assign(feeds, attentionFeeds(lengths, 1, arena.capacity));
  const kvDims = [batch, config.numKvHeads, 1, arena.capacity, config.headDim]; // [batch, kvHeads, 1, capacity, headDim]
  const fetches: Record<string, null> = { [signature.output]: null };
  signature.layers.forEach((layer, i) => {
    feeds[layer.pastKey] = new ort.Tensor(kvType, buffers[i].key, kvDims);
    feeds[layer.pastValue] = new ort.Tensor(kvType, buffers[i].value, kvDims);
    fetches[layer.qkv] = null;
  });

  const results = await session.run(feeds, fetches);
  const width = (config.numHeads + 2 * config.numKvHeads) * config.headDim;
  signature.layers.forEach((layer, i) => {
    const qkv = results[layer.qkv].data as KvBuffer; // [batch, 1, width]
    caches.forEach((cache, slot) =>
      cache?.append(i, qkv.subarray(slot * width, (slot + 1) * width), 1, rope)
    );
  });
  for (const cache of caches) cache?.commit(1);
  const output = results[signature.output].data as Float32Array; // [batch, 1, hidden] or [batch, vocab]
  const rowLength = output.length / batch;
  // Copies, so each caller owns its output's buffer (e.g. to hand it to the wire).
  return slots.map((slot) => output.slice(slot * rowLength, (slot + 1) * rowLength));
}
