import type { RopeTables } from "./onnx/rope_tables.ts";

/** Element type of cached keys and values (the shard's compute type). */
export type KvElementType = "float32" | "float16";

/** Dimensions of one request's cache on one shard. */
export interface KvCacheShape {
  /** Default float32; float16 buffers hold IEEE half bits in Uint16Arrays, as ORT takes them. */
  elementType?: KvElementType;
  /** Layers the shard holds. */
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  numHeads: number;
  /** Rows added per growth; capacity is always a multiple of it (or `maxLength`). */
  chunk: number;
  /** Longest sequence the cache may hold (the rotary tables' length). */
  maxLength: number;
}

/** Cached values as handed to ORT: float32, or float16 bits. */
export type KvBuffer = Float32Array | Uint16Array;

/** One layer's past keys and values, each [1, kvHeads, capacity, headDim]. */
export interface LayerKv {
  key: KvBuffer;
  value: KvBuffer;
}

type FloatView = Float32Array | Float16Array;

function floatView(buffer: KvBuffer): FloatView {
  return buffer instanceof Float32Array
    ? buffer
    : new Float16Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

/** Detaches a layer's buffers, which frees their memory now (views become empty). */
function free(layer: LayerKv): void {
  for (const buffer of [layer.key.buffer, layer.value.buffer]) {
    // The buffers are this cache's own (never shared): see reserve and #copyLayer.
    if (buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
  }
}

/**
 * The key/value cache of one request on one shard, owned by JS so it can be passed to
 * the shard graph as `past_key`/`past_value` without copying; only the first `length` rows
 * of each head are valid (the graph's `attention_bias` masks the rest).
 *
 * After each step the graph hands back the step's packed, un-rotated q|k|v; `append`
 * rotates the K rows (as the graph does) and writes K and V at the end. Capacity
 * grows in chunks, so the buffers are reallocated only every `chunk` tokens. Growing copies
 * every row of every layer (llama-3.2-1b at 1,500 tokens: 100 MB, ~50 ms), so a decode
 * that nears the end of its capacity fills the next capacity's buffers a few layers a step
 * beforehand, and the step that crosses over copies only the rows added since.
 */
export class KvCache {
  #shape: KvCacheShape;
  #layers: LayerKv[] = [];
  #views: { key: FloatView; value: FloatView }[] = [];
  #capacity = 0;
  #length = 0;
  #revision = 0;
  /** The next capacity's buffers, filled ahead of a growth; `rows[l]`: rows layer l holds. */
  #next: { capacity: number; layers: LayerKv[]; rows: number[] } | null = null;

  /** Creates an empty cache. */
  constructor(shape: KvCacheShape) {
    if (!(shape.chunk > 0) || !(shape.maxLength > 0)) {
      throw new RangeError(
        `Cannot create KV cache: chunk ${shape.chunk} and maxLength ${shape.maxLength} must be positive`,
      );
    }
    this.#shape = shape;
  }

  /** Valid rows per head (tokens seen so far). */
  get length(): number {
    return this.#length;
  }

  /** Counts truncations: rows below `length` never change while it stays the same. */
  get revision(): number {
    return this.#revision;
  }

  /** Allocated rows per head. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes held by the buffers, those filled ahead of a growth included. */
  get byteLength(): number {
    const bytes = (layers: LayerKv[]) =>
      layers.reduce((sum, l) => sum + l.key.byteLength + l.value.byteLength, 0);
    return bytes(this.#layers) + bytes(this.#next?.layers ?? []);
  }

  /** Layers of the next capacity already filled ahead of a growth. */
  get preparedLayers(): number {
    return this.#next?.layers.length ?? 0;
  }

  /** Layer `index` (0 = the shard's first layer) buffers, valid until the next growth. */
  layer(index: number): LayerKv {
    const layer = this.#layers[index];
    if (layer === undefined) throw new RangeError(`Cannot read KV cache: no layer ${index}`);
    return layer;
  }

  /**
   * Makes room for `total` rows per head, growing by whole chunks and keeping the rows. Near
   * the end of the capacity it also fills part of the next capacity's buffers (see the class).
   */
  reserve(total: number): void {
    const { chunk, maxLength, numLayers } = this.#shape;
    if (total > maxLength) {
      throw new RangeError(
        `Cannot extend KV cache: ${total} tokens exceed the maximum context of ${maxLength}`,
      );
    }
    if (total <= this.#capacity && this.#layers.length === numLayers) {
      this.#prepareGrowth(total);
      return;
    }
    const capacity = Math.min(maxLength, Math.ceil(total / chunk) * chunk);
    const next = this.#next?.capacity === capacity ? this.#next : null;
    const grown: LayerKv[] = [];
    for (let l = 0; l < numLayers; l++) {
      const prepared = next?.layers[l];
      if (prepared === undefined) {
        grown.push(this.#copyLayer(l, capacity));
      } else {
        this.#copyRows(this.#layers[l], prepared, capacity, next!.rows[l]);
        grown.push(prepared);
      }
    }
    // The old buffers (and unused prepared ones) are freed now: left to the garbage
    // collector, a long request's replaced caches would hold their memory until it runs.
    this.#layers.forEach(free);
    this.#next?.layers.filter((layer) => !grown.includes(layer)).forEach(free);
    this.#next = null;
    this.#layers = grown;
    this.#views = grown.map((l) => ({ key: floatView(l.key), value: floatView(l.value) }));
    this.#capacity = capacity;
  }

  /**
   * Frees the buffers at once rather than at the next garbage collection; the cache is
   * empty afterwards. No session run may still be reading them.
   */
  dispose(): void {
    this.#layers.forEach(free);
    this.#next?.layers.forEach(free);
    this.#layers = [];
    this.#views = [];
    this.#next = null;
    this.#capacity = 0;
    this.#length = 0;
    this.#revision++;
  }

  /**
   * With `total` rows reserved and fewer rows left than layers, fills the next capacity's
   * buffers of as many layers as spread the rest evenly over the steps left.
   */
  #prepareGrowth(total: number): void {
    const { chunk, maxLength, numLayers } = this.#shape;
    const left = this.#capacity - total; // steps of one token before the growth, less one
    if (this.#capacity >= maxLength || left >= numLayers) return;
    const capacity = Math.min(maxLength, this.#capacity + chunk);
    this.#next ??= { capacity, layers: [], rows: [] };
    const next = this.#next;
    const count = Math.ceil((numLayers - next.layers.length) / (left + 1));
    for (let i = 0; i < count && next.layers.length < numLayers; i++) {
      next.layers.push(this.#copyLayer(next.layers.length, capacity));
      next.rows.push(this.#length);
    }
  }

  /** Layer `index`'s valid rows in new buffers of `capacity` rows per head. */
  #copyLayer(index: number, capacity: number): LayerKv {
    const { numKvHeads, headDim } = this.#shape;
    const Buffer = this.#shape.elementType === "float16" ? Uint16Array : Float32Array;
    const layer = {
      key: new Buffer(numKvHeads * capacity * headDim), // [1, kvHeads, capacity, headDim]
      value: new Buffer(numKvHeads * capacity * headDim),
    };
    const old = this.#layers[index];
    if (old !== undefined) this.#copyRows(old, layer, capacity, 0);
    return layer;
  }

  /** Copies rows `fromRow` to `length` of each head from `old` into `target` (`capacity`). */
  #copyRows(old: LayerKv, target: LayerKv, capacity: number, fromRow: number): void {
    const { numKvHeads, headDim } = this.#shape;
    const start = fromRow * headDim;
    const end = this.#length * headDim;
    if (end <= start) return;
    for (let h = 0; h < numKvHeads; h++) {
      const from = h * this.#capacity * headDim;
      const to = h * capacity * headDim;
      target.key.set(old.key.subarray(from + start, from + end), to + start);
      target.value.set(old.value.subarray(from + start, from + end), to + start);
    }
  }

  /**
   * Writes layer `index`'s K (rotated) and V rows for the `seq` new tokens from the packed
   * q|k|v the graph returned ([1, seq, (heads + 2 kvHeads) × headDim]), after the valid rows.
   * Call `reserve` first and `commit` once every layer is appended.
   */
  append(index: number, packed: KvBuffer, seq: number, rope: RopeTables): void {
    const qkv = floatView(packed);
    const { numHeads, numKvHeads, headDim } = this.#shape;
    const width = (numHeads + 2 * numKvHeads) * headDim;
    if (qkv.length !== seq * width) {
      throw new RangeError(
        `Cannot append to KV cache: got ${qkv.length} q|k|v values, expected ${seq}x${width}`,
      );
    }
    const start = this.#length;
    if (start + seq > this.#capacity) {
      throw new RangeError(
        `Cannot append to KV cache: ${start + seq} rows exceed capacity ${this.#capacity}`,
      );
    }
    this.layer(index);
    // Writes through a Float16Array view round once, from the float64 result.
    const { key, value } = this.#views[index];
    const half = headDim / 2;
    const kOffset = numHeads * headDim;
    const vOffset = kOffset + numKvHeads * headDim;
    for (let t = 0; t < seq; t++) {
      const position = start + t;
      const token = t * width;
      const angles = position * rope.halfDim;
      for (let h = 0; h < numKvHeads; h++) {
        const src = token + h * headDim;
        const dst = (h * this.#capacity + position) * headDim;
        // HF rotate_half: dimension i pairs with i + headDim/2.
        for (let i = 0; i < half; i++) {
          const cos = rope.cos[angles + i];
          const sin = rope.sin[angles + i];
          const x1 = qkv[kOffset + src + i];
          const x2 = qkv[kOffset + src + half + i];
          key[dst + i] = x1 * cos - x2 * sin;
          key[dst + half + i] = x2 * cos + x1 * sin;
        }
        value.set(qkv.subarray(vOffset + src, vOffset + src + headDim), dst);
      }
    }
  }

  /**
   * Copies layer `index`'s valid rows from `fromRow` on into row `slot` of batch buffers
   * [batch, kvHeads, capacity, headDim] (for a batched decode step).
   */
  copyInto(index: number, target: LayerKv, slot: number, capacity: number, fromRow = 0): void {
    const { numKvHeads, headDim } = this.#shape;
    if (capacity < this.#length) {
      throw new RangeError(
        `Cannot copy KV cache: ${this.#length} rows do not fit a capacity of ${capacity}`,
      );
    }
    if (!Number.isInteger(fromRow) || fromRow < 0 || fromRow > this.#length) {
      throw new RangeError(`Cannot copy KV cache rows from ${fromRow} of ${this.#length}`);
    }
    const { key, value } = this.layer(index);
    const start = fromRow * headDim;
    const end = this.#length * headDim;
    for (let h = 0; h < numKvHeads; h++) {
      const from = h * this.#capacity * headDim;
      const to = (slot * numKvHeads + h) * capacity * headDim;
      target.key.set(key.subarray(from + start, from + end), to + start);
      target.value.set(value.subarray(from + start, from + end), to + start);
    }
  }

  /** Forgets every row from `length` on (to undo a failed step); capacity is kept. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.#length) {
      throw new RangeError(`Cannot truncate KV cache of ${this.#length} rows to ${length}`);
    }
    this.#length = length;
    this.#revision++;
    // Rows of prepared layers from `length` on are stale: the crossing step recopies them.
    if (this.#next) this.#next.rows = this.#next.rows.map((rows) => Math.min(rows, length));
  }

  /** Marks `seq` appended rows as valid. */
  commit(seq: number): void {
    if (this.#length + seq > this.#capacity) {
      throw new RangeError(
        `Cannot commit KV cache rows: ${this.#length + seq} exceed capacity ${this.#capacity}`,
      );
    }
    this.#length += seq;
  }
}
