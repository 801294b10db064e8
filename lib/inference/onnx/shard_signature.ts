import type { ModelConfig } from "../../model/model_config.ts";

/** Weight precision of a built shard. */
export type ShardDType = "float32" | "float16" | "q4";

/** The input and output names of a shard graph, which the runner feeds and fetches. */
export interface ShardSignature {
  /** First layer held (inclusive). */
  startLayer: number;
  /** Last layer held (inclusive), as in the topology's ShardRange. */
  endLayer: number;
  /** Holds layer 0: takes `input_ids` int64 [batch, seq] instead of hidden states. */
  isFirst: boolean;
  /** Holds the last layer: returns `logits` [batch, vocab] for the last position. */
  isLast: boolean;
  /** "input_ids" or "hidden_states". */
  input: string;
  /** "logits" or "hidden_states_out". */
  output: string;
  /**
   * Per held layer, in order: the past K/V inputs, the packed QKV output (masked attention
   * graphs) and the present K/V outputs (GroupQueryAttention graphs).
   */
  layers: {
    layer: number;
    pastKey: string;
    pastValue: string;
    qkv: string;
    presentKey: string;
    presentValue: string;
  }[];
}

/** Name of the int64 [batch, seq] input holding each new token's position. */
export const POSITION_IDS = "position_ids";
/**
 * Name of the float32 [batch, 1, seq, capacity + seq] input masking attention: 0 where a new
 * token may look (its request's cached rows, then the new tokens up to itself), -inf elsewhere.
 */
export const ATTENTION_BIAS = "attention_bias";

/**
 * Name of the int32 [batch] input of GroupQueryAttention graphs: each request's total
 * length (cached plus new tokens) minus one.
 */
export const SEQLENS_K = "seqlens_k";
/** Name of the int32 [1] input of GroupQueryAttention graphs: the longest total length. */
export const TOTAL_SEQUENCE_LENGTH = "total_sequence_length";

/** Names the inputs and outputs of the shard holding layers startLayer..endLayer. */
export function shardSignature(
  config: ModelConfig,
  startLayer: number,
  endLayer: number,
): ShardSignature {
  if (
    !Number.isInteger(startLayer) || !Number.isInteger(endLayer) || startLayer < 0 ||
    endLayer < startLayer || endLayer >= config.numLayers
  ) {
    throw new RangeError(
      `Cannot build shard graph: layers ${startLayer}..${endLayer} are not a range within 0..${
        config.numLayers - 1
      }`,
    );
  }
  const isFirst = startLayer === 0;
  const isLast = endLayer === config.numLayers - 1;
  const layers = [];
  for (let layer = startLayer; layer <= endLayer; layer++) {
    layers.push({
      layer,
      pastKey: `past_key.${layer}`,
      pastValue: `past_value.${layer}`,
      qkv: `qkv.${layer}`,
      presentKey: `present_key.${layer}`,
      presentValue: `present_value.${layer}`,
    });
  }
  return {
    startLayer,
    endLayer,
    isFirst,
    isLast,
    input: isFirst ? "input_ids" : "hidden_states",
    output: isLast ? "logits" : "hidden_states_out",
    layers,
  };
}
