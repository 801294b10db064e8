/**
 * How far two runs of a shard may differ and still count as the same answer: the
 * tolerances the reference tests hold the engine to (tests/inference against the float64
 * reference of tests/reference), and the one measure they use.
 * @module
 */
import type { ShardDType } from "./onnx/shard_signature.ts";

/**
 * Largest max |got - want| over max |want| by weight precision:
 * - float32: the engine against float64 arithmetic.
 * - float16 (weights, activations, KV cache): a GPU measured 2.3e-3 to 8.1e-3 on lavapipe,
 *   the CPU 7e-4 to 1.9e-3; a wrong cache row or rotary position gives above 0.1.
 * - q4 (projections in blocks of 128, the embedding in blocks of 32, int8 activations on
 *   the CPU): random 64-wide models measured 0.29-0.35; a wrong nibble or block layout
 *   gives about 1. A WebGPU q4 shard (float16 activations) differs from the CPU's q4 by
 *   0.07-0.18 on those models, the CPU's int8 activations being most of it.
 */
export const TOLERANCE: Readonly<Record<ShardDType, number>> = {
  float32: 1e-4,
  float16: 2e-2,
  q4: 0.4,
};

/**
 * max |got - want| over max |want|; Infinity when the lengths differ, `got` holds a value
 * that is not finite, or `want` is all zeros (nothing to compare against).
 */
export function relativeDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    // NaN compares false everywhere: catch it here, not in Math.max.
    if (!(d < Infinity)) return Infinity;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return scale === 0 ? Infinity : diff / scale;
}
