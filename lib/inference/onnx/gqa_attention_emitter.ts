import type { ModelConfig } from "../../model/model_config.ts";
import { type GraphBuilder, MS_DOMAIN } from "./graph_builder.ts";
import { SEQLENS_K, TOTAL_SEQUENCE_LENGTH } from "./shard_signature.ts";
import { attentionScale } from "./attention_emitter.ts";

/** Element type of a shard's activations and KV cache. */
type FloatType = "float32" | "float16";

/** Values every layer's GroupQueryAttention shares. */
export interface GqaShared {
  /** int32 [batch]: total length minus one, per request. */
  seqlensK: string;
  /** int32 [1]: the longest total length. */
  totalLength: string;
  /** Rotary tables [maxPositions, headDim / 2]. */
  cos: string;
  sin: string;
}

const int = (value: number) => ({ kind: "int", value }) as const;
const float = (value: number) => ({ kind: "float", value }) as const;

/** Declares the inputs GroupQueryAttention takes besides its K/V caches. */
export function emitGqaShared(b: GraphBuilder, rope: { cos: string; sin: string }): GqaShared {
  const seqlensK = b.input(SEQLENS_K, "int32", ["batch"]);
  const totalLength = b.input(TOTAL_SEQUENCE_LENGTH, "int32", [1]);
  return { seqlensK, totalLength, ...rope };
}

/**
 * Emits one GroupQueryAttention node over the packed, un-rotated q|k|v
 * [batch, seq, (heads + 2 kvHeads) × headDim], rotating q and k inside (`do_rotary`) and
 * appending the new K/V rows to its past [batch, kvHeads, past, headDim], returned as the
 * present outputs [batch, kvHeads, past + seq, headDim]. This is the attention the WebGPU
 * provider runs as one kernel; the runner keeps each present on the device and feeds it
 * back as the next step's past. Returns the attention output [batch, seq, heads × headDim].
 */
export function emitGqaAttention(
  b: GraphBuilder,
  config: ModelConfig,
  ft: FloatType,
  qkv: string,
  layer: { pastKey: string; pastValue: string; presentKey: string; presentValue: string },
  shared: GqaShared,
): string {
  const kvShape = ["batch", config.numKvHeads, "past", config.headDim];
  b.input(layer.pastKey, ft, kvShape);
  b.input(layer.pastValue, ft, kvShape);
  const [output] = b.node("GroupQueryAttention", [
    qkv,
    "",
    "",
    layer.pastKey,
    layer.pastValue,
    shared.seqlensK,
    shared.totalLength,
    shared.cos,
    shared.sin,
  ], {
    domain: MS_DOMAIN,
    outputs: [b.fresh(`${layer.pastKey}.attention`), layer.presentKey, layer.presentValue],
    attributes: {
      num_heads: int(config.numHeads),
      kv_num_heads: int(config.numKvHeads),
      do_rotary: int(1),
      rotary_interleaved: int(0),
      scale: float(attentionScale(config)),
    },
  });
  const present = ["batch", config.numKvHeads, "total", config.headDim];
  b.output(layer.presentKey, ft, present);
  b.output(layer.presentValue, ft, present);
  return output;
}
