/**
 * A plain float64 forward pass of the llama family (llama, mistral, qwen2, qwen3), written to
 * be read top to bottom and trusted, not to be fast. It is the ground truth the ONNX engine
 * is checked against, so it shares no code with lib/inference.
 *
 * Conventions follow Hugging Face transformers: Linear weights are [out, in]; RoPE rotates
 * the pairs (i, i + headDim/2) ("rotate_half"); Llama 3 frequency scaling follows
 * `_compute_llama3_parameters`.
 *
 * @module
 */

import type { ModelConfig } from "../../lib/model/model_config.ts";
import { loadModelConfig } from "../../lib/model/hf_config.ts";
import { CheckpointReader } from "../../lib/model/checkpoint_reader.ts";

/** One decoder layer's weights, named as in the checkpoint. */
export interface ReferenceLayer {
  inputLayernorm: Float64Array; // [hidden]
  qProj: Float64Array; // [heads * headDim, hidden]
  kProj: Float64Array; // [kvHeads * headDim, hidden]
  vProj: Float64Array; // [kvHeads * headDim, hidden]
  qBias: Float64Array | null; // [heads * headDim] (qwen2)
  kBias: Float64Array | null; // [kvHeads * headDim] (qwen2)
  vBias: Float64Array | null; // [kvHeads * headDim] (qwen2)
  qNorm: Float64Array | null; // [headDim] (qwen3)
  kNorm: Float64Array | null; // [headDim] (qwen3)
  oProj: Float64Array; // [hidden, heads * headDim]
  postAttentionLayernorm: Float64Array; // [hidden]
  gateProj: Float64Array; // [intermediate, hidden]
  upProj: Float64Array; // [intermediate, hidden]
  downProj: Float64Array; // [hidden, intermediate]
}

/** A whole model's weights in float64. */
export interface ReferenceWeights {
  config: ModelConfig;
  embedTokens: Float64Array; // [vocab, hidden]
  layers: ReferenceLayer[];
  norm: Float64Array; // [hidden]
  /** The embedding itself when tied. */
  lmHead: Float64Array; // [vocab, hidden]
}

/** Reads a model directory's config and every weight, widened to float64. */
export async function loadReferenceWeights(modelDir: string): Promise<ReferenceWeights> {
  const config = await loadModelConfig(modelDir);
  const reader = await CheckpointReader.open(modelDir);
  try {
    const read = async (name: string) => Float64Array.from(await reader.readFloat32(name));
    const maybe = (name: string, present: boolean) => present ? read(name) : null;
    const layers: ReferenceLayer[] = [];
    for (let i = 0; i < config.numLayers; i++) {
      const p = `model.layers.${i}`;
      layers.push({
        inputLayernorm: await read(`${p}.input_layernorm.weight`),
        qProj: await read(`${p}.self_attn.q_proj.weight`),
        kProj: await read(`${p}.self_attn.k_proj.weight`),
        vProj: await read(`${p}.self_attn.v_proj.weight`),
        qBias: await maybe(`${p}.self_attn.q_proj.bias`, config.attentionBias),
        kBias: await maybe(`${p}.self_attn.k_proj.bias`, config.attentionBias),
        vBias: await maybe(`${p}.self_attn.v_proj.bias`, config.attentionBias),
        qNorm: await maybe(`${p}.self_attn.q_norm.weight`, config.qkNorm),
        kNorm: await maybe(`${p}.self_attn.k_norm.weight`, config.qkNorm),
        oProj: await read(`${p}.self_attn.o_proj.weight`),
        postAttentionLayernorm: await read(`${p}.post_attention_layernorm.weight`),
        gateProj: await read(`${p}.mlp.gate_proj.weight`),
        upProj: await read(`${p}.mlp.up_proj.weight`),
        downProj: await read(`${p}.mlp.down_proj.weight`),
      });
    }
    const embedTokens = await read("model.embed_tokens.weight");
    return {
      config,
      embedTokens,
      layers,
      norm: await read("model.norm.weight"),
      lmHead: config.tieWordEmbeddings ? embedTokens : await read("lm_head.weight"),
    };
  } finally {
    reader.close();
  }
}

/** Logits for every position of `tokenIds` (a full causal prefill from position 0). */
export function referenceForward(
  weights: ReferenceWeights,
  config: ModelConfig,
  tokenIds: number[],
): Float64Array[] {
  const hidden = referenceEmbed(weights, config, tokenIds);
  const out = referenceLayers(weights, config, hidden, 0, config.numLayers - 1);
  return referenceLogits(weights, config, out);
}

/** The embedding rows of `tokenIds`: the first shard's input to layer 0. */
export function referenceEmbed(
  weights: ReferenceWeights,
  config: ModelConfig,
  tokenIds: number[],
): Float64Array[] {
  const { hiddenSize, vocabSize } = config;
  return tokenIds.map((id) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new RangeError(`Cannot embed token ${id}: outside the vocabulary of ${vocabSize}`);
    }
    return weights.embedTokens.slice(id * hiddenSize, (id + 1) * hiddenSize); // [hidden]
  });
}

/**
 * Runs layers `startLayer..endLayer` (inclusive) over the hidden states of positions
 * 0..n-1, as a pipeline shard does: hidden in, hidden out, one [hidden] row per position.
 */
export function referenceLayers(
  weights: ReferenceWeights,
  config: ModelConfig,
  hidden: Float64Array[],
  startLayer: number,
  endLayer: number,
): Float64Array[] {
  let x: Float64Array[] = hidden.map((row) => row.slice()); // [seq][hidden]
  const invFreq = ropeInverseFrequencies(config); // [headDim / 2]
  for (let layer = startLayer; layer <= endLayer; layer++) {
    x = decoderLayer(weights.layers[layer], config, x, invFreq);
  }
  return x;
}

/** Final norm and LM head: logits [vocab] per position, from the last layer's output. */
export function referenceLogits(
  weights: ReferenceWeights,
  config: ModelConfig,
  hidden: Float64Array[],
): Float64Array[] {
  return hidden.map((row) => {
    const normed = rmsNorm(row, weights.norm, config.rmsNormEps); // [hidden]
    return matVec(weights.lmHead, normed, config.vocabSize, config.hiddenSize, null); // [vocab]
  });
}

function decoderLayer(
  w: ReferenceLayer,
  config: ModelConfig,
  x: Float64Array[], // [seq][hidden]
  invFreq: Float64Array,
): Float64Array[] {
  const { hiddenSize, numHeads, numKvHeads, headDim, intermediateSize, rmsNormEps } = config;
  const seq = x.length;
  const headsPerKv = numHeads / numKvHeads;

  // Projections for every position; K and V are kept whole, as a KV cache would hold them.
  const q: Float64Array[] = []; // [seq][heads * headDim]
  const k: Float64Array[] = []; // [seq][kvHeads * headDim]
  const v: Float64Array[] = []; // [seq][kvHeads * headDim]
  for (let t = 0; t < seq; t++) {
    const normed = rmsNorm(x[t], w.inputLayernorm, rmsNormEps); // [hidden]
    const qt = matVec(w.qProj, normed, numHeads * headDim, hiddenSize, w.qBias);
    const kt = matVec(w.kProj, normed, numKvHeads * headDim, hiddenSize, w.kBias);
    const vt = matVec(w.vProj, normed, numKvHeads * headDim, hiddenSize, w.vBias);
    for (let h = 0; h < numHeads; h++) {
      const head = qt.subarray(h * headDim, (h + 1) * headDim); // [headDim]
      if (w.qNorm) head.set(rmsNorm(head, w.qNorm, rmsNormEps));
      rotate(head, t, invFreq);
    }
    for (let h = 0; h < numKvHeads; h++) {
      const head = kt.subarray(h * headDim, (h + 1) * headDim); // [headDim]
      if (w.kNorm) head.set(rmsNorm(head, w.kNorm, rmsNormEps));
      rotate(head, t, invFreq);
    }
    q.push(qt);
    k.push(kt);
    v.push(vt);
  }

  const scale = 1 / Math.sqrt(headDim);
  const out: Float64Array[] = [];
  for (let t = 0; t < seq; t++) {
    // Causal grouped-query attention: query head h reads KV head floor(h / headsPerKv) at
    // positions 0..t.
    const attended = new Float64Array(numHeads * headDim); // [heads * headDim]
    for (let h = 0; h < numHeads; h++) {
      const kvHead = Math.floor(h / headsPerKv);
      const qh = q[t].subarray(h * headDim, (h + 1) * headDim);
      const scores = new Float64Array(t + 1); // [t + 1]
      for (let s = 0; s <= t; s++) {
        scores[s] = dot(qh, k[s].subarray(kvHead * headDim, (kvHead + 1) * headDim)) * scale;
      }
      const probs = softmax(scores);
      for (let s = 0; s <= t; s++) {
        const vs = v[s].subarray(kvHead * headDim, (kvHead + 1) * headDim);
        for (let d = 0; d < headDim; d++) attended[h * headDim + d] += probs[s] * vs[d];
      }
    }
    const attnOut = matVec(w.oProj, attended, hiddenSize, numHeads * headDim, null); // [hidden]
    const h1 = add(x[t], attnOut); // [hidden]

    const normed = rmsNorm(h1, w.postAttentionLayernorm, rmsNormEps); // [hidden]
    const gate = matVec(w.gateProj, normed, intermediateSize, hiddenSize, null); // [inter]
    const up = matVec(w.upProj, normed, intermediateSize, hiddenSize, null); // [inter]
    const act = new Float64Array(intermediateSize); // [inter]
    for (let i = 0; i < intermediateSize; i++) act[i] = silu(gate[i]) * up[i];
    const mlpOut = matVec(w.downProj, act, hiddenSize, intermediateSize, null); // [hidden]
    out.push(add(h1, mlpOut));
  }
  return out;
}

/**
 * RoPE inverse frequencies theta^(-2i/d), with Llama 3 scaling when configured: long
 * wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
 */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const { headDim, ropeTheta, ropeScaling } = config;
  const invFreq = new Float64Array(headDim / 2); // [headDim / 2]
  for (let i = 0; i < headDim / 2; i++) invFreq[i] = ropeTheta ** (-(2 * i) / headDim);
  if (ropeScaling === null) return invFreq;

  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldContext } =
    ropeScaling;
  const lowFreqWavelen = oldContext / lowFreqFactor;
  const highFreqWavelen = oldContext / highFreqFactor;
  for (let i = 0; i < invFreq.length; i++) {
    const wavelen = (2 * Math.PI) / invFreq[i];
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      invFreq[i] /= factor;
      continue;
    }
    const smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    invFreq[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
  }
  return invFreq;
}

/** Rotates one head in place: pair (i, i + d/2) by angle position * invFreq[i]. */
function rotate(head: Float64Array, position: number, invFreq: Float64Array): void {
  const half = invFreq.length;
  for (let i = 0; i < half; i++) {
    const angle = position * invFreq[i];
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const x1 = head[i];
    const x2 = head[i + half];
    head[i] = x1 * cos - x2 * sin;
    head[i + half] = x2 * cos + x1 * sin;
  }
}

function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  let sumSquares = 0;
  for (let i = 0; i < x.length; i++) sumSquares += x[i] * x[i];
  const inverseRms = 1 / Math.sqrt(sumSquares / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * inverseRms * weight[i];
  return out;
}

/** y = W x + b with W stored [out, in]. */
function matVec(
  w: Float64Array,
  x: Float64Array,
  outFeatures: number,
  inFeatures: number,
  bias: Float64Array | null,
): Float64Array {
  const y = new Float64Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    let sum = bias ? bias[o] : 0;
    const row = o * inFeatures;
    for (let i = 0; i < inFeatures; i++) sum += w[row + i] * x[i];
    y[o] = sum;
  }
  return y;
}

function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp(scores[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}
