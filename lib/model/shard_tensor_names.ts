/**
 * Which checkpoint tensors a pipeline shard needs, and the shape each must have. Names are
 * the Hugging Face checkpoint's; Linear weights are [outFeatures, inFeatures].
 *
 * @module
 */

import { CheckpointError } from "./checkpoint_error.ts";
import type { CheckpointReader } from "./checkpoint_reader.ts";
import type { ModelConfig } from "./model_config.ts";

/** A contiguous range of layers and whether it is the model's first and/or last shard. */
export interface ShardRange {
  /** First layer held, 0-based. */
  startLayer: number;
  /** Last layer held, inclusive. */
  endLayer: number;
  /** Holds the token embedding (layer 0's input). */
  isFirst: boolean;
  /** Holds the final norm and the LM head. */
  isLast: boolean;
}

/**
 * Every tensor a shard holding layers `startLayer..endLayer` (inclusive) needs, with its
 * expected shape, in checkpoint order. The embedding is needed by the first shard and,
 * when the LM head is tied to it, by the last.
 */
export function shardTensorShapes(
  config: ModelConfig,
  startLayer: number,
  endLayer: number,
  isFirst: boolean,
  isLast: boolean,
): Map<string, number[]> {
  checkLayerRange(config, startLayer, endLayer);
  const { hiddenSize: hidden, headDim, numHeads, numKvHeads, intermediateSize, vocabSize } = config;
  const shapes = new Map<string, number[]>();
  if (isFirst || (isLast && config.tieWordEmbeddings)) {
    shapes.set("model.embed_tokens.weight", [vocabSize, hidden]);
  }
  for (let layer = startLayer; layer <= endLayer; layer++) {
    const prefix = `model.layers.${layer}`;
    shapes.set(`${prefix}.input_layernorm.weight`, [hidden]);
    shapes.set(`${prefix}.self_attn.q_proj.weight`, [numHeads * headDim, hidden]);
    shapes.set(`${prefix}.self_attn.k_proj.weight`, [numKvHeads * headDim, hidden]);
    shapes.set(`${prefix}.self_attn.v_proj.weight`, [numKvHeads * headDim, hidden]);
    if (config.attentionBias) {
      shapes.set(`${prefix}.self_attn.q_proj.bias`, [numHeads * headDim]);
      shapes.set(`${prefix}.self_attn.k_proj.bias`, [numKvHeads * headDim]);
      shapes.set(`${prefix}.self_attn.v_proj.bias`, [numKvHeads * headDim]);
    }
    if (config.qkNorm) {
      shapes.set(`${prefix}.self_attn.q_norm.weight`, [headDim]);
      shapes.set(`${prefix}.self_attn.k_norm.weight`, [headDim]);
    }
    shapes.set(`${prefix}.self_attn.o_proj.weight`, [hidden, numHeads * headDim]);
    shapes.set(`${prefix}.post_attention_layernorm.weight`, [hidden]);
    shapes.set(`${prefix}.mlp.gate_proj.weight`, [intermediateSize, hidden]);
    shapes.set(`${prefix}.mlp.up_proj.weight`, [intermediateSize, hidden]);
    shapes.set(`${prefix}.mlp.down_proj.weight`, [hidden, intermediateSize]);
  }
  if (isLast) {
    shapes.set("model.norm.weight", [hidden]);
    if (!config.tieWordEmbeddings) shapes.set("lm_head.weight", [vocabSize, hidden]);
  }
  return shapes;
}

/** The names of {@linkcode shardTensorShapes}, in checkpoint order. */
export function shardTensorNames(
  config: ModelConfig,
  startLayer: number,
  endLayer: number,
  isFirst: boolean,
  isLast: boolean,
): string[] {
  return [...shardTensorShapes(config, startLayer, endLayer, isFirst, isLast).keys()];
}

/**
 * Checks that `reader` holds every tensor the shard needs, with the expected shape and a
 * float dtype; throws {@linkcode CheckpointError} naming the first tensor that is missing
 * or wrong. Opens the shard files involved but reads no tensor data.
 */
export async function verifyShardTensors(
  reader: CheckpointReader,
  config: ModelConfig,
  range: ShardRange,
): Promise<void> {
  const shapes = shardTensorShapes(
    config,
    range.startLayer,
    range.endLayer,
    range.isFirst,
    range.isLast,
  );
  reader.filesFor(shapes.keys());
  for (const [name, expected] of shapes) {
    const info = await reader.info(name);
    if (info.dtype !== "F32" && info.dtype !== "F16" && info.dtype !== "BF16") {
      throw new CheckpointError(
        `Cannot use checkpoint ${reader.dir}: tensor ${name} has dtype ${info.dtype}, expected F32, F16 or BF16`,
      );
    }
    if (info.shape.length !== expected.length || info.shape.some((d, i) => d !== expected[i])) {
      throw new CheckpointError(
        `Cannot use checkpoint ${reader.dir}: tensor ${name} has shape [${
          info.shape.join(", ")
        }], but the config needs [${expected.join(", ")}]`,
      );
    }
  }
}

function checkLayerRange(config: ModelConfig, startLayer: number, endLayer: number): void {
  if (
    !Number.isInteger(startLayer) || !Number.isInteger(endLayer) || startLayer < 0 ||
    endLayer < startLayer || endLayer >= config.numLayers
  ) {
    throw new RangeError(
      `Cannot list shard tensors: layers ${startLayer}..${endLayer} are not a range within 0..${
        config.numLayers - 1
      }`,
    );
  }
}
