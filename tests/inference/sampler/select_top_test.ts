import assert from "node:assert/strict";
import { selectTop } from "../../../lib/inference/sampler/_select_top.ts";
import { SeededRng } from "../../../lib/inference/sampler/mod.ts";

/** Reference: full sort by key descending, ties to the lower id. */
function referenceTop(
  keys: Float64Array,
  weights: Float64Array,
  countGoal: number,
  massGoal: number,
) {
  const order = Array.from(keys.keys()).sort((a, b) => keys[b] - keys[a] || a - b);
  let mass = 0;
  for (let i = 0; i < order.length; i++) {
    mass += weights[order[i]];
    if (i + 1 >= countGoal || mass >= massGoal) return order.slice(0, i + 1);
  }
  return order;
}

function randomKeys(rng: SeededRng, size: number, spread: number, levels: number): Float64Array {
  const keys = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    // Quantized keys produce many exact ties, which must still go to the lower id.
    keys[i] = levels > 0
      ? -Math.floor(rng.nextFloat() * levels) * (spread / levels)
      : -rng.nextFloat() * spread;
  }
  return keys;
}

function check(keys: Float64Array, countGoal: number, massFraction: number): void {
  const weights = keys.map(Math.exp);
  const total = weights.reduce((a, b) => a + b, 0);
  const massGoal = massFraction * total;
  const ids = Int32Array.from(keys.keys());
  const kept = selectTop(ids, keys, weights, countGoal, massGoal);
  const expected = referenceTop(keys, weights, countGoal, massGoal);
  const got = Array.from(ids.subarray(0, kept)).sort((a, b) => a - b);
  assert.deepEqual(got, expected.sort((a, b) => a - b));
}

Deno.test("selectTop keeps exactly the k highest keys, ties to the lower id", () => {
  const rng = new SeededRng(11);
  for (
    const [size, spread, levels] of [[5000, 20, 0], [5000, 20, 50], [200, 0.001, 0], [3000, 1, 3]]
  ) {
    const keys = randomKeys(rng, size, spread, levels);
    for (const k of [1, 2, 40, 63, 64, 65, 1000, size]) check(keys, k, Infinity);
  }
});

Deno.test("selectTop keeps the smallest set whose mass reaches the goal", () => {
  const rng = new SeededRng(12);
  for (
    const [size, spread, levels] of [[5000, 20, 0], [5000, 5, 40], [4000, 0.01, 0], [100, 3, 0]]
  ) {
    const keys = randomKeys(rng, size, spread, levels);
    for (const p of [1e-9, 0.1, 0.5, 0.9, 0.99]) check(keys, Infinity, p);
  }
});

Deno.test("selectTop with all keys equal keeps the lowest ids", () => {
  const keys = new Float64Array(1000);
  const weights = new Float64Array(1000).fill(1);
  const ids = Int32Array.from(keys.keys());
  const kept = selectTop(ids, keys, weights, Infinity, 250.5);
  assert.deepEqual(Array.from(ids.subarray(0, kept)), Array.from({ length: 251 }, (_, i) => i));
});
