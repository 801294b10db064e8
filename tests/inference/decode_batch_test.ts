import assert from "node:assert/strict";
import { type ArenaShape, BatchKvPool } from "../../lib/inference/decode_batch.ts";
import { KvCache } from "../../lib/inference/kv_cache.ts";
import type { RopeTables } from "../../lib/inference/onnx/rope_tables.ts";

const cacheShape = {
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 2,
  headDim: 2,
  chunk: 4,
  maxLength: 64,
};
const arenaShape: ArenaShape = { type: "float32", numLayers: 2, numKvHeads: 2, headDim: 2 };
const width = (cacheShape.numHeads + 2 * cacheShape.numKvHeads) * cacheShape.headDim;
/** No rotation, so a K row equals what was appended. */
const identity: RopeTables = {
  maxPositions: 64,
  halfDim: 1,
  cos: new Float32Array(64).fill(1),
  sin: new Float32Array(64),
};

/** A cache of `rows` tokens whose K and V values all encode (tag, layer, head, row). */
function filled(tag: number, rows: number): KvCache {
  const cache = new KvCache(cacheShape);
  grow(cache, tag, rows);
  return cache;
}

function grow(cache: KvCache, tag: number, rows: number): void {
  const start = cache.length;
  cache.reserve(start + rows);
  for (let layer = 0; layer < cacheShape.numLayers; layer++) {
    const qkv = new Float32Array(rows * width);
    for (let t = 0; t < rows; t++) {
      for (let h = 0; h < cacheShape.numKvHeads; h++) {
        const value = code(tag, layer, h, start + t);
        const k = t * width + (cacheShape.numHeads + h) * cacheShape.headDim;
        const v = k + cacheShape.numKvHeads * cacheShape.headDim;
        qkv.fill(value, k, k + cacheShape.headDim);
        qkv.fill(-value, v, v + cacheShape.headDim);
      }
    }
    cache.append(layer, qkv, rows, identity);
  }
  cache.commit(rows);
}

function code(tag: number, layer: number, head: number, row: number): number {
  return tag * 1000 + layer * 100 + head * 10 + row + 1;
}

/** Row `row` of head `head` in slot `slot` of a [batch, kvHeads, capacity, headDim] buffer. */
function rowOf(
  buffer: ArrayLike<number>,
  capacity: number,
  slot: number,
  head: number,
  row: number,
) {
  const at = ((slot * cacheShape.numKvHeads + head) * capacity + row) * cacheShape.headDim;
  return Array.from({ length: cacheShape.headDim }, (_, i) => buffer[at + i]);
}

function assertMirrors(
  buffers: { key: Float32Array | Uint16Array }[],
  capacity: number,
  slot: number,
  tag: number,
  rows: number,
) {
  for (let layer = 0; layer < cacheShape.numLayers; layer++) {
    for (let h = 0; h < cacheShape.numKvHeads; h++) {
      for (let row = 0; row < rows; row++) {
        const want = code(tag, layer, h, row);
        assert.deepEqual(rowOf(buffers[layer].key, capacity, slot, h, row), [want, want]);
      }
    }
  }
}

Deno.test("BatchKvPool fills each slot with its request's rows", () => {
  const pool = new BatchKvPool();
  const a = filled(1, 3);
  const b = filled(2, 5);
  const { arena, slots } = pool.take(["a", "b"]);
  assert.deepEqual(slots, [0, 1]);
  const buffers = arena.sync([a, b], arenaShape, 6);
  assert.ok(arena.capacity >= 6);
  assertMirrors(buffers, arena.capacity, 0, 1, 3);
  assertMirrors(buffers, arena.capacity, 1, 2, 5);
  const v = -code(2, 0, 0, 4);
  assert.deepEqual(rowOf(buffers[0].value, arena.capacity, 1, 0, 4), [v, v]);
});

Deno.test("BatchKvPool copies only the rows added since the last step of the same batch", () => {
  const pool = new BatchKvPool();
  const a = filled(1, 3);
  const b = filled(2, 2);
  let { arena } = pool.take(["a", "b"]);
  let buffers = arena.sync([a, b], arenaShape, 4);
  // Spoil an already mirrored row in the arena: a sync that recopied it would restore it.
  buffers[0].key[0] = 0;
  grow(a, 1, 1);
  grow(b, 2, 1);
  // The same requests in the other order find the same arena and slots.
  const taken = pool.take(["b", "a"]);
  assert.equal(taken.arena, arena);
  assert.deepEqual(taken.slots, [1, 0]);
  ({ arena } = taken);
  buffers = arena.sync([a, b], arenaShape, 4);
  assert.equal(buffers[0].key[0], 0);
  assert.deepEqual(rowOf(buffers[0].key, arena.capacity, 0, 0, 3), [
    code(1, 0, 0, 3),
    code(1, 0, 0, 3),
  ]);
  assert.deepEqual(rowOf(buffers[1].key, arena.capacity, 1, 1, 2), [
    code(2, 1, 1, 2),
    code(2, 1, 1, 2),
  ]);
});

Deno.test("BatchKvPool recopies a slot whose cache was truncated or replaced, and all slots on growth", () => {
  const pool = new BatchKvPool();
  const a = filled(1, 3);
  let b = filled(2, 2);
  const { arena } = pool.take(["a", "b"]);
  let buffers = arena.sync([a, b], arenaShape, 4);
  buffers[0].key.fill(0);
  a.truncate(2);
  b = filled(3, 2); // e.g. released and started over under the same id
  buffers = arena.sync([a, b], arenaShape, 4);
  assertMirrors(buffers, arena.capacity, 0, 1, 2);
  assertMirrors(buffers, arena.capacity, 1, 3, 2);

  const before = arena.capacity;
  grow(a, 1, before); // more rows than the arena holds
  buffers = arena.sync([a, b], arenaShape, a.length + 1);
  assert.ok(arena.capacity > before);
  assertMirrors(buffers, arena.capacity, 0, 1, a.length);
  assertMirrors(buffers, arena.capacity, 1, 3, 2);
});

Deno.test("BatchKvPool serves a smaller batch from an arena holding it, widens new arenas, forgets released requests", () => {
  const pool = new BatchKvPool();
  const ab = pool.take(["a", "b"]).arena;
  // A new group joins the most recent one's requests, so later groups of the four share it.
  const abcd = pool.take(["c", "d"]).arena;
  assert.deepEqual([...abcd.requestIds].sort(), ["a", "b", "c", "d"]);
  assert.equal(pool.take(["a", "b"]).arena, ab, "the smallest arena holding the batch");
  const taken = pool.take(["d", "a"]);
  assert.equal(taken.arena, abcd);
  assert.deepEqual(taken.slots, [abcd.requestIds.indexOf("d"), abcd.requestIds.indexOf("a")]);
  ab.sync([filled(1, 1), filled(2, 1)], arenaShape, 2);
  assert.ok(pool.byteLength > 0);
  pool.forget("a");
  const cd = pool.take(["c", "d"]).arena;
  assert.notEqual(cd, abcd, "every arena holding a released request is dropped");
  assert.deepEqual([...cd.requestIds].sort(), ["c", "d"]);
  // Three are kept; the least recently used goes first.
  pool.take(["e", "f", "g", "h", "i", "j", "k"]); // widened by c, d: 9 slots is too many
  assert.equal(pool.take(["e"]).arena.size, 7);
  pool.take(["x"]);
  pool.take(["y"]);
  assert.notEqual(pool.take(["c", "d"]).arena, cd);
  pool.clear();
  assert.equal(pool.byteLength, 0);
});

Deno.test("BatchKvArena leaves a slot sitting a step out as it was and later copies only its new rows", () => {
  const pool = new BatchKvPool();
  const a = filled(1, 3);
  const b = filled(2, 2);
  const { arena } = pool.take(["a", "b"]);
  let buffers = arena.sync([a, b], arenaShape, 4);
  buffers[0].key[0] = 0; // spoil a mirrored row of "a": only a full recopy restores it
  grow(a, 1, 1);
  buffers = arena.sync([null, b], arenaShape, 4);
  assert.equal(buffers[0].key[0], 0);
  assert.deepEqual(rowOf(buffers[0].key, arena.capacity, 0, 0, 3), [0, 0], "not copied yet");
  buffers = arena.sync([a, b], arenaShape, 4);
  assert.equal(buffers[0].key[0], 0);
  assert.deepEqual(rowOf(buffers[0].key, arena.capacity, 0, 0, 3), [
    code(1, 0, 0, 3),
    code(1, 0, 0, 3),
  ]);
});

Deno.test("BatchKvArena refuses a batch of another size than its slots", () => {
  const { arena } = new BatchKvPool().take(["a", "b"]);
  assert.throws(() => arena.sync([filled(1, 1)], arenaShape, 2), /1 caches for 2 slots/);
});
