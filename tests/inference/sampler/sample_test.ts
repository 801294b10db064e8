import assert from "node:assert/strict";
import {
  argmax,
  type Rng,
  sample,
  type SamplingParams,
  SeededRng,
} from "../../../lib/inference/sampler/mod.ts";

const VOCAB = 128256;

/** An Rng that fails the test if sampling draws from it. */
const noDraws: Rng = {
  nextFloat() {
    throw new Error("Greedy sampling must not draw a random number");
  },
};

function randomLogits(seed: number, size: number, scale: number): Float32Array {
  const rng = new SeededRng(seed);
  return Float32Array.from({ length: size }, () => (rng.nextFloat() - 0.5) * scale);
}

/** Logits whose softmax is `probabilities`, padded with ids that can never be drawn. */
function logitsFor(probabilities: number[], padding = 0): Float32Array {
  const logits = new Float32Array(probabilities.length + padding).fill(-Infinity);
  probabilities.forEach((p, id) => (logits[id] = Math.log(p)));
  return logits;
}

function frequencies(logits: Float32Array, params: SamplingParams, seed: number, draws: number) {
  const rng = new SeededRng(seed);
  const counts = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    const id = sample(logits, params, rng);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return (id: number) => (counts.get(id) ?? 0) / draws;
}

Deno.test("sample at temperature 0 picks the largest logit without drawing", () => {
  const logits = randomLogits(1, VOCAB, 10);
  logits[98765] = 100;
  assert.equal(sample(logits, { temperature: 0, topP: 0.5, topK: 7 }, noDraws), 98765);
});

Deno.test("argmax breaks ties towards the lowest id and ignores NaN", () => {
  assert.equal(argmax(Float32Array.of(NaN, 1, 3, 3, NaN, 3)), 2);
  assert.equal(argmax(Float32Array.of(-Infinity, -Infinity, -5)), 2);
});

Deno.test("sample with top_k 1 equals greedy at any temperature", () => {
  const rng = new SeededRng(3);
  for (let seed = 0; seed < 5; seed++) {
    const logits = randomLogits(seed, 5000, 4);
    assert.equal(sample(logits, { temperature: 1.5, topP: 1, topK: 1 }, rng), argmax(logits));
  }
});

Deno.test("sample repeats the same tokens for the same seed", () => {
  const logits = randomLogits(2, 32000, 6);
  const params = { temperature: 0.9, topP: 0.95, topK: 50 };
  const run = (seed: number) => {
    const rng = new SeededRng(seed);
    return Array.from({ length: 50 }, () => sample(logits, params, rng));
  };
  assert.deepEqual(run(1234), run(1234));
  assert.notDeepEqual(run(1234), run(1235));
});

Deno.test("sample follows the softmax of the scaled logits", () => {
  const logits = Float32Array.of(0, 1);
  const warm = frequencies(logits, { temperature: 1, topP: 1, topK: 0 }, 5, 20000);
  assert.ok(Math.abs(warm(1) - Math.E / (1 + Math.E)) < 0.02, `p(1) = ${warm(1)}`);
  const hot = frequencies(logits, { temperature: 100, topP: 1, topK: 0 }, 5, 20000);
  assert.ok(Math.abs(hot(1) - 0.5) < 0.02, `p(1) at temperature 100 = ${hot(1)}`);
});

Deno.test("sample with top_k draws only from the k likeliest tokens", () => {
  const logits = randomLogits(4, 20000, 8);
  const top = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, 5);
  const freq = frequencies(logits, { temperature: 5, topP: 1, topK: 5 }, 6, 2000);
  const total = top.reduce((sum, id) => sum + freq(id), 0);
  assert.equal(total, 1);
  assert.ok(top.every((id) => freq(id) > 0.05), "every one of the k tokens is drawn");
});

Deno.test("sample with top_p draws from the nucleus in renormalized proportions", () => {
  // Nucleus for 0.75 is {0, 1} (0.5 + 0.3 = 0.8 >= 0.75), renormalized to 0.625 / 0.375.
  const logits = logitsFor([0.5, 0.3, 0.15, 0.05], 1000);
  const freq = frequencies(logits, { temperature: 1, topP: 0.75, topK: 0 }, 8, 20000);
  assert.equal(freq(0) + freq(1), 1);
  assert.ok(Math.abs(freq(0) - 0.625) < 0.02, `p(0) = ${freq(0)}`);
});

Deno.test("sample with a tiny top_p still keeps the likeliest token", () => {
  const logits = randomLogits(9, 3000, 2);
  const rng = new SeededRng(1);
  for (let i = 0; i < 20; i++) {
    assert.equal(sample(logits, { temperature: 1, topP: 1e-9, topK: 0 }, rng), argmax(logits));
  }
});

Deno.test("sample never draws a token with a -Infinity or NaN logit", () => {
  const logits = logitsFor([0.25, 0.25, 0.25, 0.25], 10);
  logits[12] = NaN;
  const freq = frequencies(logits, { temperature: 1, topP: 1, topK: 0 }, 10, 4000);
  assert.equal(freq(0) + freq(1) + freq(2) + freq(3), 1);
});

Deno.test("sample rejects invalid parameters", () => {
  const logits = Float32Array.of(1, 2, 3);
  const rng = new SeededRng(0);
  const bad: SamplingParams[] = [
    { temperature: -0.1, topP: 1, topK: 0 },
    { temperature: NaN, topP: 1, topK: 0 },
    { temperature: Infinity, topP: 1, topK: 0 },
    { temperature: 1, topP: 0, topK: 0 },
    { temperature: 1, topP: 1.01, topK: 0 },
    { temperature: 1, topP: NaN, topK: 0 },
    { temperature: 1, topP: 1, topK: -1 },
    { temperature: 1, topP: 1, topK: 2.5 },
  ];
  for (const params of bad) {
    assert.throws(() => sample(logits, params, rng), RangeError, JSON.stringify(params));
  }
});

Deno.test("sample rejects logits with nothing to draw", () => {
  const params = { temperature: 1, topP: 1, topK: 0 };
  assert.throws(() => sample(new Float32Array(0), params, new SeededRng(0)), RangeError);
  assert.throws(
    () => sample(Float32Array.of(-Infinity, NaN), params, new SeededRng(0)),
    /Cannot sample from 2 logits: none is a number above -Infinity/,
  );
});
