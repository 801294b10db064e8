import type { ModelConfig } from "../../model/model_config.ts";
import { type GraphBuilder, MS_DOMAIN } from "./graph_builder.ts";
import { ONNX_DATA_TYPES } from "./onnx_model.ts";
import { ATTENTION_BIAS, POSITION_IDS } from "./shard_signature.ts";

/** Element type of a shard's activations and KV cache. */
type FloatType = "float32" | "float16";

/** Values every layer's attention shares, made once per graph. */
export interface AttentionShared {
  /** int64 [batch, seq]: each new token's position, for rotary. */
  positions: string;
  /** [batch, 1, 1, seq, capacity + seq]: 0 where a query may look, -inf elsewhere. */
  bias: string;
  /** int64 [2]: capacity and seq, to split probabilities into past and new columns. */
  split: string;
  /** Rotary tables [maxPositions, headDim / 2]. */
  cos: string;
  sin: string;
}

const int = (value: number) => ({ kind: "int", value }) as const;
const ints = (value: number[]) => ({ kind: "ints", value }) as const;

/** [batch, seq, kvHeads, n, headDim] → [batch, kvHeads, n, seq, headDim]. */
const TOKENS_TO_ROWS = [0, 2, 3, 1, 4];
/** [batch, kvHeads, group, seq, headDim] → [batch, seq, kvHeads, group, headDim]. */
const ROWS_TO_TOKENS = [0, 3, 1, 2, 4];

/**
 * The scale of attention scores, 1/√headDim. The graph folds it into the query
 * projection (see emitQkv) rather than the score MatMul: ONNX Runtime's CPU GEMM multiplies
 * a one-row query without packing the keys only when its alpha is 1.
 */
export function attentionScale(config: Pick<ModelConfig, "headDim">): number {
  return 1 / Math.sqrt(config.headDim);
}

/**
 * Declares the attention inputs (`position_ids`, `attention_bias`) and derives the values
 * each layer shares. `firstPastKey` is any layer's past key input (all share a capacity).
 */
export function emitAttentionShared(
  b: GraphBuilder,
  ft: FloatType,
  firstPastKey: string,
  rope: { cos: string; sin: string },
): AttentionShared {
  const positions = b.input(POSITION_IDS, "int64", ["batch", "seq"]);
  let bias = b.input(ATTENTION_BIAS, "float32", ["batch", 1, "seq", "total"]);
  if (ft === "float16") {
    bias = b.node1("Cast", [bias], { attributes: { to: int(ONNX_DATA_TYPES.float16) } });
  }
  // Scores are [batch, kvHeads, group, seq, total]: one bias row per token, for every head.
  const rows = b.node1("Unsqueeze", [bias, b.int64("attention.bias_axes", [2])]);
  const capacity = b.node1("Shape", [firstPastKey], {
    attributes: { start: int(3), end: int(4) },
  });
  const seq = b.node1("Shape", [positions], { attributes: { start: int(1), end: int(2) } });
  const split = b.node1("Concat", [capacity, seq], { attributes: { axis: int(0) } });
  return { positions, bias: rows, split, ...rope };
}

/**
 * Emits causal grouped-query attention over JS-owned past K/V buffers
 * [batch, kvHeads, 1, capacity, headDim], read in place (GroupQueryAttention on CPU clears
 * and copies its whole present cache every step, once per query head). Rows a request has
 * not filled are masked by the bias, so one capacity serves requests of any length.
 * `qkv` is the packed, un-rotated q|k|v [batch, seq, (heads + 2 kvHeads) × headDim], its q
 * already scaled by {@linkcode attentionScale}; returns the attention output
 * [batch, seq, heads × headDim].
 *
 * Each query head is its own matrix [seq, headDim] against its KV head's rows, broadcast
 * over the group: in a decode step every product is one row, which ONNX Runtime's CPU GEMM
 * computes straight from the cache instead of packing the keys and values first.
 */
export function emitAttention(
  b: GraphBuilder,
  config: ModelConfig,
  p: string,
  qkv: string,
  pastKey: string,
  pastValue: string,
  shared: AttentionShared,
): string {
  const heads = config.numHeads;
  const kvHeads = config.numKvHeads;
  const headDim = config.headDim;
  const group = heads / kvHeads;
  const shape = (name: string, values: number[]) => b.int64(`${p}attention.${name}`, values);
  const transpose = (x: string, perm: number[]) =>
    b.node1("Transpose", [x], { attributes: { perm: ints(perm) } });
  const split = (x: string, sizes: string) =>
    b.node("Split", [x, sizes], { outputs: 2, attributes: { axis: int(-1) } });
  const rows = (x: string, headShape: string) =>
    transpose(b.node1("Reshape", [x, headShape]), TOKENS_TO_ROWS);

  const qkWidth = (heads + kvHeads) * headDim;
  const [qk, v] = split(qkv, shape("qkv_split", [qkWidth, kvHeads * headDim]));
  // q and k heads rotate alike: one op over both.
  const rotated = b.node1("RotaryEmbedding", [qk, shared.positions, shared.cos, shared.sin], {
    domain: MS_DOMAIN,
    attributes: { interleaved: int(0) },
  }); // [batch, seq, (heads + kvHeads) * headDim]
  const [q, k] = split(rotated, shape("qk_split", [heads * headDim, kvHeads * headDim]));
  const query = rows(q, shape("q_heads", [0, 0, kvHeads, group, headDim])); // [batch, kvHeads, group, seq, headDim]
  const kvHeadShape = shape("kv_heads", [0, 0, kvHeads, 1, headDim]);
  const newKey = rows(k, kvHeadShape); // [batch, kvHeads, 1, seq, headDim]
  const newValue = rows(v, kvHeadShape);

  const transB = { transB: int(1) };
  const pastScores = b.node1("FusedMatMul", [query, pastKey], {
    domain: MS_DOMAIN,
    attributes: transB,
  }); // [batch, kvHeads, group, seq, capacity]
  const newScores = b.node1("FusedMatMul", [query, newKey], {
    domain: MS_DOMAIN,
    attributes: transB,
  }); // [batch, kvHeads, group, seq, seq]
  const scores = b.node1("Concat", [pastScores, newScores], { attributes: { axis: int(-1) } });
  const probs = b.node1("Softmax", [b.node1("Add", [scores, shared.bias])], {
    attributes: { axis: int(-1) },
  });
  const [pastProbs, newProbs] = split(probs, shared.split);
  const context = b.node1("Add", [
    b.node1("MatMul", [pastProbs, pastValue]),
    b.node1("MatMul", [newProbs, newValue]),
  ]); // [batch, kvHeads, group, seq, headDim]
  return b.node1("Reshape", [
    transpose(context, ROWS_TO_TOKENS),
    shape("context_rows", [0, 0, -1]),
  ]); // [batch, seq, heads * headDim]
}
