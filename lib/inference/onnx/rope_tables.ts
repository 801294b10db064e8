import type { ModelConfig } from "../../model/model_config.ts";

/** Rotary tables: row p holds cos (or sin) of p × each inverse frequency. */
export interface RopeTables {
  /** Rows in each table: the longest context the tables serve. */
  maxPositions: number;
  /** Columns: headDim / 2 (the HF rotate_half convention rotates pairs (i, i + headDim/2)). */
  halfDim: number;
  cos: Float32Array; // [maxPositions, halfDim]
  sin: Float32Array; // [maxPositions, halfDim]
}

/**
 * The inverse frequencies of rotary embedding, with Llama 3 scaling folded in when the
 * config has it (the same formula as Hugging Face's `_compute_llama3_parameters`).
 */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const dim = config.headDim;
  const inv = new Float64Array(dim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / dim);
  const scaling = config.ropeScaling;
  if (scaling === null) return inv;
  const lowFreqWavelen = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highFreqWavelen = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  for (let i = 0; i < inv.length; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      inv[i] /= scaling.factor;
      continue;
    }
    const smooth = (scaling.originalMaxPositionEmbeddings / wavelen - scaling.lowFreqFactor) /
      (scaling.highFreqFactor - scaling.lowFreqFactor);
    inv[i] = (1 - smooth) * (inv[i] / scaling.factor) + smooth * inv[i];
  }
  return inv;
}

/** Builds the cos and sin tables for positions 0..maxPositions-1. */
export function buildRopeTables(config: ModelConfig, maxPositions: number): RopeTables {
  const inv = ropeInverseFrequencies(config);
  const halfDim = inv.length;
  const cos = new Float32Array(maxPositions * halfDim);
  const sin = new Float32Array(maxPositions * halfDim);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < halfDim; i++) {
      const angle = p * inv[i];
      cos[p * halfDim + i] = Math.cos(angle);
      sin[p * halfDim + i] = Math.sin(angle);
    }
  }
  return { maxPositions, halfDim, cos, sin };
}
