import assert from "node:assert/strict";
import { KvCache } from "../../lib/inference/kv_cache.ts";
import type { RopeTables } from "../../lib/inference/onnx/rope_tables.ts";
import { fromFloat16Bits, toFloat16Bits } from "../../lib/inference/onnx/float16.ts";

const shape = { numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 4, chunk: 2, maxLength: 8 };
const width = (shape.numHeads + 2 * shape.numKvHeads) * shape.headDim; // q|k|v per token

/** Tables whose position p rotates by 90° × p on every pair. */
function quarterTurns(): RopeTables {
  const halfDim = 2;
  const cos = new Float32Array(8 * halfDim);
  const sin = new Float32Array(8 * halfDim);
  for (let p = 0; p < 8; p++) {
    cos.fill(Math.round(Math.cos((p * Math.PI) / 2)), p * halfDim, (p + 1) * halfDim);
    sin.fill(Math.round(Math.sin((p * Math.PI) / 2)), p * halfDim, (p + 1) * halfDim);
  }
  return { maxPositions: 8, halfDim, cos, sin };
}

function token(k: number[], v: number[]): Float32Array {
  const qkv = new Float32Array(width);
  qkv.set(k, shape.numHeads * shape.headDim);
  qkv.set(v, (shape.numHeads + 1) * shape.headDim);
  return qkv;
}

Deno.test("KvCache rotates K by position with rotate_half pairs and copies V", () => {
  const cache = new KvCache(shape);
  cache.reserve(2);
  const qkv = new Float32Array(2 * width);
  qkv.set(token([1, 2, 3, 4], [5, 6, 7, 8]), 0);
  qkv.set(token([1, 2, 3, 4], [9, 9, 9, 9]), width);
  cache.append(0, qkv, 2, quarterTurns());
  cache.commit(2);
  const { key, value } = cache.layer(0);
  assert.deepEqual([...key.subarray(0, 4)], [1, 2, 3, 4]); // position 0: no turn
  // Position 1, 90°: (x1, x2) -> (-x2, x1) for pairs (0,2) and (1,3).
  assert.deepEqual([...key.subarray(4, 8)], [-3, -4, 1, 2]);
  assert.deepEqual([...value.subarray(0, 8)], [5, 6, 7, 8, 9, 9, 9, 9]);
  assert.equal(cache.length, 2);
});

Deno.test("KvCache grows by chunks and keeps every head's rows in place", () => {
  const cache = new KvCache({ ...shape, numKvHeads: 2, numHeads: 2 });
  cache.reserve(1);
  assert.equal(cache.capacity, 2);
  const w = 6 * 4;
  const qkv = new Float32Array(w);
  qkv.set([1, 1, 1, 1, 2, 2, 2, 2], 16); // v of heads 0 and 1
  cache.append(0, qkv, 1, quarterTurns());
  cache.commit(1);
  cache.reserve(3);
  assert.equal(cache.capacity, 4);
  const { value } = cache.layer(0); // [1, kvHeads 2, capacity 4, headDim 4]
  assert.deepEqual([...value.subarray(0, 4)], [1, 1, 1, 1]);
  assert.deepEqual([...value.subarray(16, 20)], [2, 2, 2, 2]);
  assert.deepEqual([...value.subarray(4, 16)], new Array(12).fill(0));
});

Deno.test("KvCache refuses to pass its maximum length or capacity", () => {
  const cache = new KvCache(shape);
  assert.throws(() => cache.reserve(9), RangeError);
  cache.reserve(8);
  assert.equal(cache.capacity, 8);
  cache.commit(7);
  assert.throws(() => cache.append(0, new Float32Array(2 * width), 2, quarterTurns()), RangeError);
  assert.throws(() => cache.commit(2), RangeError);
  assert.equal(cache.length, 7);
  assert.throws(() => new KvCache({ ...shape, chunk: 0 }), RangeError);
  cache.truncate(3);
  assert.equal(cache.length, 3);
  assert.equal(cache.capacity, 8);
  assert.throws(() => cache.truncate(4), RangeError);
});

Deno.test("KvCache in float16 stores half-precision bits of the rotated rows", () => {
  const cache = new KvCache({ ...shape, elementType: "float16" });
  cache.reserve(2);
  const qkv = new Float32Array(2 * width);
  qkv.set(token([1, 2, 3, 4], [0.1, 6, 7, 8]), 0);
  qkv.set(token([1, 2, 3, 4], [9, 9, 9, 9]), width);
  cache.append(0, toFloat16Bits(qkv), 2, quarterTurns());
  cache.commit(2);
  const { key, value } = cache.layer(0);
  assert.ok(key instanceof Uint16Array && value instanceof Uint16Array);
  assert.deepEqual([...fromFloat16Bits(key.subarray(4, 8))], [-3, -4, 1, 2]);
  assert.equal(fromFloat16Bits(value.subarray(0, 1))[0], Math.fround(Math.f16round(0.1)));
});

/** Rows 0..length-1 of every head of every layer, keys then values. */
function validRows(cache: KvCache, layers: number, kvHeads: number, headDim: number): number[] {
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    const { key, value } = cache.layer(l);
    for (const buffer of [key, value]) {
      for (let h = 0; h < kvHeads; h++) {
        const from = h * cache.capacity * headDim;
        out.push(...buffer.subarray(from, from + cache.length * headDim));
      }
    }
  }
  return out;
}

Deno.test("KvCache fills the next capacity a layer a step before it grows, and keeps every row through truncation and a prompt", () => {
  const layers = 4;
  const grown = { ...shape, numLayers: layers, numKvHeads: 1, chunk: 8, maxLength: 32 };
  const cache = new KvCache(grown);
  // The same rows in a cache that never grows.
  const plain = new KvCache({ ...grown, chunk: 32 });
  const rope = { ...quarterTurns(), maxPositions: 32 };
  rope.cos = new Float32Array(32 * 2).fill(1);
  rope.sin = new Float32Array(32 * 2);
  let counter = 0;
  const step = (seq: number) => {
    for (const c of [cache, plain]) c.reserve(c.length + seq);
    const start = counter;
    for (let l = 0; l < layers; l++) {
      const qkv = new Float32Array(seq * width);
      for (let t = 0; t < seq; t++) {
        const tag = start + t + l / 10;
        qkv.set(token([tag, tag, tag, tag], [-tag, -tag, -tag, -tag]), t * width);
      }
      for (const c of [cache, plain]) c.append(l, qkv, seq, rope);
    }
    for (const c of [cache, plain]) c.commit(seq);
    counter += seq;
  };
  const prepared: number[] = [];
  for (let i = 0; i < 8; i++) {
    step(1);
    prepared.push(cache.preparedLayers);
  }
  // Capacity 8: filling starts with fewer rows left than layers, one layer a step.
  assert.deepEqual(prepared, [0, 0, 0, 0, 1, 2, 3, 4]);
  assert.equal(cache.capacity, 8);
  step(1); // crosses into capacity 16 with every layer ready
  assert.equal(cache.capacity, 16);
  assert.equal(cache.preparedLayers, 0);
  assert.deepEqual(validRows(cache, layers, 1, 4), validRows(plain, layers, 1, 4));

  // A failed step undone while the next capacity is half filled: its rows must not survive.
  while (cache.preparedLayers < 2) step(1);
  cache.truncate(cache.length - 3);
  plain.truncate(plain.length - 3);
  counter += 100; // different rows from here on
  while (cache.capacity === 16) step(1);
  assert.deepEqual(validRows(cache, layers, 1, 4), validRows(plain, layers, 1, 4));

  // A prompt that jumps past the prepared capacity copies every layer whole.
  while (cache.preparedLayers === 0) step(1);
  step(9);
  assert.equal(cache.capacity, 32);
  assert.deepEqual(validRows(cache, layers, 1, 4), validRows(plain, layers, 1, 4));
});

Deno.test("KvCache frees the buffers a growth replaces, and all of them on dispose", () => {
  const cache = new KvCache(shape);
  cache.reserve(1);
  cache.append(0, token([1, 2, 3, 4], [5, 6, 7, 8]), 1, quarterTurns());
  cache.commit(1);
  const before = cache.layer(0);
  cache.reserve(3); // grows from 2 to 4 rows
  assert.equal(before.key.length, 0, "the old keys are detached");
  assert.equal(before.value.length, 0, "the old values are detached");
  assert.deepEqual([...cache.layer(0).value.subarray(0, 4)], [5, 6, 7, 8]);
  const current = cache.layer(0);
  cache.dispose();
  assert.equal(current.key.length, 0);
  assert.equal(cache.byteLength, 0);
  assert.equal(cache.length, 0);
  cache.reserve(1); // usable again, empty
  assert.equal(cache.capacity, 2);
});
