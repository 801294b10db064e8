import assert from "node:assert/strict";
import { SeededRng } from "../../../lib/inference/sampler/mod.ts";

function draws(rng: SeededRng, count: number): number[] {
  return Array.from({ length: count }, () => rng.nextFloat());
}

Deno.test("SeededRng repeats its sequence for the same seed", () => {
  assert.deepEqual(draws(new SeededRng(42), 100), draws(new SeededRng(42), 100));
});

Deno.test("SeededRng gives different sequences for nearby, negative and large seeds", () => {
  const seeds = [0, 1, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  const firsts = seeds.map((seed) => draws(new SeededRng(seed), 4).join(","));
  assert.equal(new Set(firsts).size, seeds.length);
});

Deno.test("SeededRng floats lie in [0, 1) and average one half", () => {
  const values = draws(new SeededRng(7), 20000);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  const lowHalf = values.filter((v) => v < 0.5).length / values.length;
  assert.ok(Math.abs(lowHalf - 0.5) < 0.02, `share below one half ${lowHalf}`);
});

Deno.test("SeededRng.fromEntropy records a seed that reproduces it", () => {
  const rng = SeededRng.fromEntropy();
  assert.ok(Number.isSafeInteger(rng.seed));
  const replay = new SeededRng(rng.seed);
  assert.deepEqual(draws(rng, 10), draws(replay, 10));
});

Deno.test("SeededRng rejects seeds that are not safe integers", () => {
  for (const seed of [1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => new SeededRng(seed), RangeError);
  }
});
