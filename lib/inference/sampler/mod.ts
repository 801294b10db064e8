/**
 * Token sampling, kept apart from the forward pass: temperature, top-k, top-p over a logits
 * vector, driven by a seedable random generator.
 *
 * @example Usage
 * ```ts
 * import { SeededRng, sample } from "./mod.ts";
 *
 * const rng = new SeededRng(1234);
 * const next = sample(logits, { temperature: 0.7, topP: 0.9, topK: 0 }, rng);
 * ```
 * @module
 */
export * from "./sample.ts";
export * from "./sampling_params.ts";
export * from "./seeded_rng.ts";
