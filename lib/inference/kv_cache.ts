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

/**
 * The key/value cache of one request on one shard, owned by JS so it can be passed to
 * the shard graph as `past_key`/`past_value` without copying; only the first `length` rows
 * of each head are valid (the graph's `attention_bias` masks the rest).
 *
 * After each step the graph hands back the step's packed, un-rotated q|k|v; `append`
 * rotates the K rows (as the graph does) and writes K and V at the end. Capacity
 * grows in chunks, so the buffers are reallocated only every `chunk` tokens.
 */
export class KvCache {
  #shape: KvCacheShape;
  #layers: LayerKv[] = [];
  #views: { key: FloatView; value: FloatView }[] = [];
  #capacity = 0;
  #length = 0;
  #revision = 0;

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

  /** Bytes held by the buffers. */
  get byteLength(): number {
    return this.#layers.reduce((sum, l) => sum + l.key.byteLength + l.value.byteLength, 0);
  }

  /** Layer `index` (0 = the shard's first layer) buffers, valid until the next growth. */
  layer(index: number): LayerKv {
    const layer = this.#layers[index];
    if (layer === undefined) throw new RangeError(`Cannot read KV cache: no layer ${index}`);
    return layer;
  }

  /** Makes room for `total` rows per head, growing by whole chunks and keeping the rows. */
  reserve(total: number): void {
    const { chunk, maxLength, numLayers, numKvHeads, headDim } = this.#shape;
    if (total > maxLength) {
      throw new RangeError(
        `Cannot extend KV cache: ${total} tokens exceed the maximum context of ${maxLength}`,
      );
    }
    if (total <= this.#capacity && this.#layers.length === numLayers) return;
    const capacity = Math.min(maxLength, Math.ceil(total / chunk) * chunk);
    const rowsToKeep = this.#length * headDim;
    const grown: LayerKv[] = [];
    const Buffer = this.#shape.elementType === "float16" ? Uint16Array : Float32Array;
    for (let l = 0; l < numLayers; l++) {
      const key = new Buffer(numKvHeads * capacity * headDim); // [1, kvHeads, capacity, headDim]
      const value = new Buffer(numKvHeads * capacity * headDim);
      const old = this.#layers[l];
      if (old !== undefined) {
        for (let h = 0; h < numKvHeads; h++) {
          const from = h * this.#capacity * headDim;
          const to = h * capacity * headDim;
          key.set(old.key.subarray(from, from + rowsToKeep), to);
          value.set(old.value.subarray(from, from + rowsToKeep), to);
        }
      }
      grown.push({ key, value });
    }
    this.#layers = grown;
    this.#views = grown.map((l) => ({ key: floatView(l.key), value: floatView(l.value) }));
    this.#capacity = capacity;
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
