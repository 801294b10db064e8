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
