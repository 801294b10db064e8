import { selectTop } from "./_select_top.ts";
import type { Rng } from "./seeded_rng.ts";
import { type SamplingParams, validateSamplingParams } from "./sampling_params.ts";

/**
 * Tokens whose probability is below e^-30 of the likeliest one (about 1e-13) are never drawn:
 * skipping them saves the exp and the bookkeeping, and over a 128k vocabulary they cannot
 * add up to more than ~1e-8 of the mass.
 */
const LOG_CUTOFF = -30;

// Per-token scratch reused across calls: sampling is synchronous, so no two calls share it.
let scratchIds = new Int32Array(0);
let scratchKeys = new Float64Array(0);
let scratchWeights = new Float64Array(0);

/**
 * The id of the largest logit; ties go to the lowest id and NaN never wins.
 *
 * @throws {RangeError} When no logit is a number above -Infinity.
 */
export function argmax(logits: Float32Array): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  if (best < 0) {
    throw new RangeError(
      `Cannot sample from ${logits.length} logits: none is a number above -Infinity`,
    );
  }
  return best;
}

/**
 * Draws the next token id from `logits` ([vocab]) in the usual order: temperature, then
 * top-k, then top-p (nucleus), then one draw from `rng`. Temperature 0 (or top-k 1) is
 * greedy and draws nothing. Each sampled token consumes exactly one `rng.nextFloat()`, so a
 * seeded generator reproduces a whole completion.
 *
 * @example Usage
 * ```ts
 * const rng = new SeededRng(7);
 * const id = sample(logits, { temperature: 0.8, topP: 0.95, topK: 40 }, rng);
 * ```
 *
 * @throws {RangeError} When the parameters are invalid or no logit is usable.
 */
export function sample(logits: Float32Array, params: SamplingParams, rng: Rng): number {
  validateSamplingParams(params);
  const best = argmax(logits);
  const invTemperature = 1 / params.temperature;
  const maxLogit = logits[best];
  if (params.topK === 1 || !Number.isFinite(invTemperature) || maxLogit === Infinity) {
    return best;
  }

  const vocab = logits.length;
  if (scratchIds.length < vocab) {
    scratchIds = new Int32Array(vocab);
    scratchKeys = new Float64Array(vocab);
    scratchWeights = new Float64Array(vocab);
  }
  const keys = scratchKeys;
  const weights = scratchWeights;
  let count = 0;
  for (let id = 0; id < vocab; id++) {
    // Keys are log-weights relative to the largest logit, so the likeliest token weighs 1.
    const key = (logits[id] - maxLogit) * invTemperature;
    if (key >= LOG_CUTOFF) {
      scratchIds[count++] = id;
      keys[id] = key;
    }
  }
  let candidates = scratchIds.subarray(0, count);

  if (params.topK > 0 && params.topK < count) {
    // Top-k needs only the order of the keys, so the exps are left for the k survivors.
    candidates = candidates.subarray(
      0,
      selectTop(candidates, keys, weights, params.topK, Infinity),
    );
    // Back to ascending ids, so that top-p breaks ties towards the lower id as well.
    candidates.sort();
  }
  let total = 0;
  for (let i = 0; i < candidates.length; i++) {
    const weight = Math.exp(keys[candidates[i]]);
    weights[candidates[i]] = weight;
    total += weight;
  }
  if (params.topP < 1) {
    const kept = selectTop(candidates, keys, weights, Infinity, params.topP * total);
    candidates = candidates.subarray(0, kept);
    total = 0;
    for (let i = 0; i < candidates.length; i++) total += weights[candidates[i]];
  }

  const target = rng.nextFloat() * total;
  let cumulative = 0;
  for (let i = 0; i < candidates.length; i++) {
    cumulative += weights[candidates[i]];
    if (target < cumulative) return candidates[i];
  }
  // Rounding can leave the target a hair above the last cumulative sum.
  return candidates[candidates.length - 1];
}
