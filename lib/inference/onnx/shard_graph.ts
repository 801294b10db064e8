import type { ModelConfig } from "../../model/model_config.ts";
import { GraphBuilder, MS_DOMAIN } from "./graph_builder.ts";
import { LinearEmitter } from "./linear_emitter.ts";
import { buildRopeTables } from "./rope_tables.ts";
import { toFloat16Bits } from "./float16.ts";
import { ONNX_DATA_TYPES } from "./onnx_model.ts";
import {
  attentionScale,
  type AttentionShared,
  emitAttention,
  emitAttentionShared,
} from "./attention_emitter.ts";
import { emitGqaAttention, emitGqaShared, type GqaShared } from "./gqa_attention_emitter.ts";
import { type ShardDType, type ShardSignature, shardSignature } from "./shard_signature.ts";
import { bytesOf, stackRows, transpose } from "./weight_layout.ts";
import { Q4_EMBEDDING_BLOCK_SIZE, quantizeQ4 } from "./quantize_q4.ts";

/** Element type of a shard's activations, KV cache and float weights. */
export type FloatType = "float32" | "float16";

/** Where checkpoint tensors come from (a CheckpointReader fits): PyTorch layout, float32. */
export interface WeightSource {
  readFloat32(name: string): Promise<Float32Array>;
}

/** What to build. */
export interface ShardGraphOptions {
  config: ModelConfig;
  /** First layer (inclusive). */
  startLayer: number;
  /** Last layer (inclusive). */
  endLayer: number;
  dtype: ShardDType;
  /** Rows of the rotary tables: the longest context the graph can serve. */
  maxPositions: number;
  /**
   * How attention is built (default "masked"): "masked" reads JS-owned K/V buffers in
   * place and outputs each step's packed q|k|v (the fastest on CPU); "gqa" is one
   * GroupQueryAttention node per layer taking past K/V and returning the present K/V, which
   * a GPU provider keeps on the device between steps.
   */
  attention?: ShardAttention;
  /**
   * Element type of activations and the KV cache (default: float16 for float16 weights,
   * else float32). A GPU runs q4 weights with float16 activations at full speed.
   */
  activations?: FloatType;
}

/** How a shard graph computes attention (see {@linkcode ShardGraphOptions.attention}). */
export type ShardAttention = "masked" | "gqa";

/** Version of the graph layout; bump it whenever built graphs would differ. */
export const SHARD_GRAPH_VERSION = 10;

const int = (value: number) => ({ kind: "int", value }) as const;
const float = (value: number) => ({ kind: "float", value }) as const;
const ints = (value: number[]) => ({ kind: "ints", value }) as const;

/**
 * Builds the ONNX graph of one pipeline shard into `modelPath`, its weights streamed into
 * `dataPath` (same directory). One graph serves prefill (seq > 1) and decode (seq = 1).
 *
 * Per layer: [Skip]SimplifiedLayerNorm → fused q|k|v MatMul (the query scaled by
 * 1/√headDim; + qwen2 bias, + qwen3 per-head q/k RMS norms) → rotary and masked attention
 * reading JS-owned past K/V in place (see {@linkcode emitAttention}) → o_proj →
 * SkipSimplifiedLayerNorm → fused gate|up MatMul → Split → x·sigmoid(x) → Mul → down_proj. The residual add of one layer
 * is folded into the next layer's SkipSimplifiedLayerNorm. Each layer also outputs its
 * packed, un-rotated q|k|v, from which the runner appends K (rotated in JS) and V rows to
 * its cache: fetching ORT's full `present` tensors would copy the whole cache every step.
 */
export async function buildShardGraph(
  weights: WeightSource,
  options: ShardGraphOptions,
  modelPath: string,
  dataPath: string,
): Promise<ShardSignature> {
  const { config, dtype } = options;
  const signature = shardSignature(config, options.startLayer, options.endLayer);
  if (config.headDim % 16 !== 0) {
    throw new RangeError(
      `Cannot build shard graph: headDim must be a multiple of 16 for the rotary kernels, got ${config.headDim}`,
    );
  }
  if (config.numHeads % config.numKvHeads !== 0) {
    throw new RangeError(
      `Cannot build shard graph: numHeads ${config.numHeads} is not a multiple of numKvHeads ${config.numKvHeads}`,
    );
  }
  const builder = new GraphBuilder(dataPath);
  try {
    await emitShard(builder, weights, options, signature);
    builder.writeModel(modelPath, `exo-node shard graph v${SHARD_GRAPH_VERSION} ${dtype}`);
  } finally {
    builder.close();
  }
  return signature;
}

async function emitShard(
  b: GraphBuilder,
  weights: WeightSource,
  options: ShardGraphOptions,
  signature: ShardSignature,
): Promise<void> {
  const { config } = options;
  const hidden = config.hiddenSize;
  const headDim = config.headDim;
  const linear = new LinearEmitter(b, options.dtype, activationType(options));
  const eps = config.rmsNormEps;

  // A tied head on a shard that also embeds stores the matrix once, transposed for the
  // head's MatMul (faster than Gemm with transB here); the embedding gathers its columns.
  const sharedEmbedding = config.tieWordEmbeddings && signature.isFirst && signature.isLast &&
    options.dtype !== "q4";
  // float16 shards compute in half precision end to end; their I/O stays float32.
  const ft: FloatType = activationType(options);
  const gqa = (options.attention ?? "masked") === "gqa";
  let sharedEmbeddingName = "";
  let x: string; // [batch, seq, hidden]
  if (signature.isFirst) {
    b.input(signature.input, "int64", ["batch", "seq"]);
    const embed = await weights.readFloat32("model.embed_tokens.weight"); // [vocab, hidden]
    checkSize("model.embed_tokens.weight", embed, config.vocabSize * hidden);
    if (sharedEmbedding) {
      sharedEmbeddingName = floatInitializer(
        b,
        "model.embed_tokens.weight_t",
        ft,
        [hidden, config.vocabSize],
        transpose(embed, config.vocabSize, hidden),
      );
      const columns = b.node1("Gather", [sharedEmbeddingName, signature.input], {
        attributes: { axis: int(1) },
      }); // [hidden, batch, seq]
      x = b.node1("Transpose", [columns], { attributes: { perm: ints([1, 2, 0]) } });
    } else if (options.dtype === "q4" && !gqa && hidden % Q4_EMBEDDING_BLOCK_SIZE === 0) {
      x = emitQ4Embedding(b, embed, config, ft, signature.input);
    } else {
      // A GPU's q4 shard keeps the table in half precision (its GatherBlockQuantized takes
      // another zero-point layout than MatMulNBits'): a gather needs no fast matmul layout.
      const tableType = options.dtype === "q4" ? "float16" : ft;
      const table = floatInitializer(
        b,
        "model.embed_tokens.weight",
        tableType,
        [config.vocabSize, hidden],
        embed,
      );
      x = b.node1("Gather", [table, signature.input], { attributes: { axis: int(0) } });
      if (tableType !== ft) {
        x = b.node1("Cast", [x], { attributes: { to: int(ONNX_DATA_TYPES[ft]) } });
      }
    }
  } else {
    x = b.input(signature.input, "float32", ["batch", "seq", hidden]);
    if (ft === "float16") {
      x = b.node1("Cast", [x], { attributes: { to: int(ONNX_DATA_TYPES.float16) } });
    }
  }
  const rope = buildRopeTables(config, options.maxPositions);
  const cos = floatInitializer(b, "rope.cos", ft, [rope.maxPositions, rope.halfDim], rope.cos);
  const sin = floatInitializer(b, "rope.sin", ft, [rope.maxPositions, rope.halfDim], rope.sin);
  let shared: AttentionShared | GqaShared;
  if (gqa) {
    shared = emitGqaShared(b, { cos, sin });
  } else {
    for (const { pastKey, pastValue } of signature.layers) {
      // One KV head's rows serve its whole group of query heads: axis 2 broadcasts.
      b.input(pastKey, ft, ["batch", config.numKvHeads, 1, "capacity", headDim]);
      b.input(pastValue, ft, ["batch", config.numKvHeads, 1, "capacity", headDim]);
    }
    shared = emitAttentionShared(b, ft, signature.layers[0].pastKey, { cos, sin });
  }

  let residual = x; // [batch, seq, hidden]
  let pending: string | null = null; // previous layer's MLP output, not yet added to residual
  for (const layerNames of signature.layers) {
    const { layer, pastKey, pastValue, qkv } = layerNames;
    const p = `model.layers.${layer}.`;
    const inputNorm = await norm(b, weights, `${p}input_layernorm.weight`, ft);
    let normed: string;
    if (pending === null) {
      normed = b.node1("SimplifiedLayerNormalization", [residual, inputNorm], {
        attributes: { axis: int(-1), epsilon: float(eps) },
      });
    } else {
      [normed, , , residual] = b.node("SkipSimplifiedLayerNormalization", [
        pending,
        residual,
        inputNorm,
      ], { outputs: [b.fresh(`${p}normed`), "", "", b.fresh(`${p}residual`)], ...skipNorm(eps) });
    }

    // The masked attention's score MatMul leaves the 1/√headDim scale to the query.
    const queryScale = gqa ? 1 : attentionScale(config);
    await emitQkv(b, weights, linear, config, ft, p, normed, qkv, queryScale);
    let attention: string; // [batch, seq, numHeads * headDim]
    if (gqa) {
      attention = emitGqaAttention(b, config, ft, qkv, layerNames, shared as GqaShared);
    } else {
      attention = emitAttention(b, config, p, qkv, pastKey, pastValue, shared as AttentionShared);
      b.output(qkv, ft, [
        "batch",
        "seq",
        (config.numHeads + 2 * config.numKvHeads) * headDim,
      ]);
    }

    const oProj = await weights.readFloat32(`${p}self_attn.o_proj.weight`);
    const attnOut = linear.emit(
      attention,
      `${p}self_attn.o_proj`,
      oProj,
      hidden,
      config.numHeads * headDim,
    );

    const postNorm = await norm(b, weights, `${p}post_attention_layernorm.weight`, ft);
    let mlpIn: string;
    [mlpIn, , , residual] = b.node("SkipSimplifiedLayerNormalization", [
      attnOut,
      residual,
      postNorm,
    ], { outputs: [b.fresh(`${p}mlp_in`), "", "", b.fresh(`${p}residual_mid`)], ...skipNorm(eps) });

    const inter = config.intermediateSize;
    const gateUp = linear.emit(
      mlpIn,
      `${p}mlp.gate_up_proj`,
      stackRows([
        await weights.readFloat32(`${p}mlp.gate_proj.weight`),
        await weights.readFloat32(`${p}mlp.up_proj.weight`),
      ], hidden),
      2 * inter,
      hidden,
    ); // [batch, seq, 2 * intermediate]
    const splitSizes = b.int64(`${p}mlp.split_sizes`, [inter, inter]);
    const [gate, up] = b.node("Split", [gateUp, splitSizes], {
      outputs: 2,
      attributes: { axis: int(-1) },
    });
    const silu = b.node1("Mul", [gate, b.node1("Sigmoid", [gate])]);
    const product = b.node1("Mul", [silu, up]); // [batch, seq, intermediate]
    const down = await weights.readFloat32(`${p}mlp.down_proj.weight`);
    pending = linear.emit(product, `${p}mlp.down_proj`, down, hidden, inter);
  }
  if (pending === null) throw new RangeError("Cannot build shard graph: the shard holds no layer");

  if (!signature.isLast) {
    const sum = ft === "float32" ? signature.output : b.fresh("hidden_half");
    b.node("Add", [pending, residual], { outputs: [sum] }); // [batch, seq, hidden]
    if (sum !== signature.output) castToFloat32(b, sum, signature.output);
    b.output(signature.output, "float32", ["batch", "seq", hidden]);
    return;
  }
  const finalNorm = await norm(b, weights, "model.norm.weight", ft);
  const [normed] = b.node("SkipSimplifiedLayerNormalization", [pending, residual, finalNorm], {
    outputs: [b.fresh("final_normed"), "", "", ""],
    ...skipNorm(eps),
  });
  const lastIndex = b.initializer(
    "last_position",
    "int64",
    [],
    bytesOf(new BigInt64Array([-1n])),
  );
  const last = b.node1("Gather", [normed, lastIndex], { attributes: { axis: int(1) } }); // [batch, hidden]
  const logits = ft === "float32" ? signature.output : b.fresh("logits_half");
  if (sharedEmbedding) {
    b.node("MatMul", [last, sharedEmbeddingName], { outputs: [logits] });
  } else {
    const name = config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    const head = await weights.readFloat32(name); // [vocab, hidden]
    linear.emit(last, name.replace(/\.weight$/, ""), head, config.vocabSize, hidden, {
      outName: logits,
    });
  }
  if (logits !== signature.output) castToFloat32(b, logits, signature.output);
  b.output(signature.output, "float32", ["batch", config.vocabSize]);
}

/**
 * The token embedding of a q4 CPU shard: the table in MatMulNBits' 4-bit layout (blocks of
 * 32 along the hidden size, packed zero points), gathered and dequantized row by row by
 * GatherBlockQuantized. A quarter of the half-precision table's bytes: llama-3.2-1b's
 * 128256 × 2048 table takes 164 MB instead of 525 MB. Returns [batch, seq, hidden].
 */
function emitQ4Embedding(
  b: GraphBuilder,
  embed: Float32Array,
  config: ModelConfig,
  ft: FloatType,
  ids: string,
): string {
  const { vocabSize: vocab, hiddenSize: hidden } = config;
  const q = quantizeQ4(embed, vocab, hidden, Q4_EMBEDDING_BLOCK_SIZE);
  // A tied head quantizes the same matrix for its MatMulNBits under the plain names.
  const name = "model.embed_tokens.gather";
  const data = b.initializer(`${name}.weight_q4`, "uint8", [vocab, hidden / 2], q.packed);
  const scales = floatInitializer(b, `${name}.scales`, ft, [vocab, q.blocksPerRow], q.scales);
  const zeroPoints = b.initializer(`${name}.zero_points`, "uint8", [
    vocab,
    Math.ceil(q.blocksPerRow / 2),
  ], q.zeroPoints);
  return b.node1("GatherBlockQuantized", [data, ids, scales, zeroPoints], {
    domain: MS_DOMAIN,
    attributes: {
      gather_axis: int(0),
      quantize_axis: int(1),
      block_size: int(q.blockSize),
      bits: int(4),
    },
  });
}

/** The element type of a shard's activations and KV cache. */
export function activationType(
  options: Pick<ShardGraphOptions, "dtype" | "activations">,
): FloatType {
  return options.activations ?? (options.dtype === "float16" ? "float16" : "float32");
}

async function emitQkv(
  b: GraphBuilder,
  weights: WeightSource,
  linear: LinearEmitter,
  config: ModelConfig,
  ft: FloatType,
  p: string,
  normed: string,
  outName: string,
  queryScale: number,
): Promise<void> {
  const hidden = config.hiddenSize;
  const qWidth = config.numHeads * config.headDim;
  const kvWidth = config.numKvHeads * config.headDim;
  const width = qWidth + 2 * kvWidth;
  // Rotary and the per-head q norm's gain are linear in q: scaling q's projection (or, after
  // a q norm, its gain) scales the rotated query alike.
  const scaleQ = (values: Float32Array) =>
    queryScale === 1 ? values : values.map((value) => value * queryScale);
  const qWeight = await weights.readFloat32(`${p}self_attn.q_proj.weight`);
  const stacked = stackRows([
    config.qkNorm ? qWeight : scaleQ(qWeight),
    await weights.readFloat32(`${p}self_attn.k_proj.weight`),
    await weights.readFloat32(`${p}self_attn.v_proj.weight`),
  ], hidden);
  const steps = (config.attentionBias ? 1 : 0) + (config.qkNorm ? 1 : 0);
  let qkv = linear.emit(normed, `${p}self_attn.qkv_proj`, stacked, width, hidden, {
    outName: steps === 0 ? outName : undefined,
  }); // [batch, seq, width]
  if (config.attentionBias) {
    const qBias = await weights.readFloat32(`${p}self_attn.q_proj.bias`);
    const bias = stackRows([
      config.qkNorm ? qBias : scaleQ(qBias),
      await weights.readFloat32(`${p}self_attn.k_proj.bias`),
      await weights.readFloat32(`${p}self_attn.v_proj.bias`),
    ], 1);
    const biasName = floatInitializer(b, `${p}self_attn.qkv_proj.bias`, ft, [width], bias);
    const outputs = config.qkNorm ? 1 : [outName];
    [qkv] = b.node("Add", [qkv, biasName], { outputs });
  }
  if (!config.qkNorm) return;

  // q and k heads get an RMS norm over headDim before rotary; v heads are left alone.
  const heads = config.numHeads + config.numKvHeads;
  const qkWidth = heads * config.headDim;
  const sizes = b.int64(`${p}self_attn.qkv_split_sizes`, [qkWidth, kvWidth]);
  const [qk, v] = b.node("Split", [qkv, sizes], { outputs: 2, attributes: { axis: int(-1) } });
  const byHead = b.int64(`${p}self_attn.qk_head_shape`, [0, 0, heads, config.headDim]);
  const flat = b.int64(`${p}self_attn.qk_flat_shape`, [0, 0, qkWidth]);
  const ones = floatInitializer(
    b,
    `${p}self_attn.qk_norm_unit`,
    ft,
    [config.headDim],
    new Float32Array(config.headDim).fill(1),
  );
  const normedHeads = b.node1("SimplifiedLayerNormalization", [
    b.node1("Reshape", [qk, byHead]),
    ones,
  ], { attributes: { axis: int(-1), epsilon: float(config.rmsNormEps) } }); // [batch, seq, heads, headDim]
  const qNorm = scaleQ(await weights.readFloat32(`${p}self_attn.q_norm.weight`));
  const kNorm = await weights.readFloat32(`${p}self_attn.k_norm.weight`);
  const gamma = new Float32Array(qkWidth);
  for (let h = 0; h < heads; h++) {
    gamma.set(h < config.numHeads ? qNorm : kNorm, h * config.headDim);
  }
  const gammaName = floatInitializer(b, `${p}self_attn.qk_norm.weight`, ft, [qkWidth], gamma);
  const scaled = b.node1("Mul", [b.node1("Reshape", [normedHeads, flat]), gammaName]);
  b.node("Concat", [scaled, v], { outputs: [outName], attributes: { axis: int(-1) } });
}

async function norm(
  b: GraphBuilder,
  weights: WeightSource,
  name: string,
  ft: FloatType,
): Promise<string> {
  const gamma = await weights.readFloat32(name);
  return floatInitializer(b, name, ft, [gamma.length], gamma);
}

/** Adds float data as a float32 or float16 initializer. */
function floatInitializer(
  b: GraphBuilder,
  name: string,
  type: FloatType,
  dims: number[],
  data: Float32Array,
): string {
  return b.initializer(name, type, dims, bytesOf(type === "float16" ? toFloat16Bits(data) : data));
}

function castToFloat32(b: GraphBuilder, value: string, outName: string): void {
  b.node("Cast", [value], { outputs: [outName], attributes: { to: int(ONNX_DATA_TYPES.float32) } });
}

function checkSize(name: string, data: Float32Array, expected: number): void {
  if (data.length !== expected) {
    throw new RangeError(
      `Cannot build shard graph: ${name} has ${data.length} values, expected ${expected}`,
    );
  }
}

function skipNorm(eps: number) {
  return { domain: MS_DOMAIN, attributes: { epsilon: float(eps) } };
}
