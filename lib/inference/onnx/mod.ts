/**
 * ONNX shard graphs for onnxruntime-node: a small protobuf/ONNX writer, a graph builder
 * that streams weights to an external data file, the transformer shard graph, its disk
 * cache, and session opening.
 *
 * @module
 */

export { ProtoWriter } from "./protobuf_writer.ts";
export {
  encodeModel,
  ONNX_DATA_TYPES,
  ONNX_ITEM_SIZES,
  type OnnxAttributeValue,
  type OnnxDataType,
  type OnnxDim,
  type OnnxInitializer,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensorData,
  type OnnxValueInfo,
} from "./onnx_model.ts";
export {
  GraphBuilder,
  MS_DOMAIN,
  MS_OPSET,
  type NodeOptions,
  ONNX_OPSET,
} from "./graph_builder.ts";
export { buildRopeTables, ropeInverseFrequencies, type RopeTables } from "./rope_tables.ts";
export {
  ATTENTION_BIAS,
  POSITION_IDS,
  type ShardDType,
  type ShardSignature,
  shardSignature,
} from "./shard_signature.ts";
export {
  buildShardGraph,
  type FloatType,
  SHARD_GRAPH_VERSION,
  type ShardGraphOptions,
  type WeightSource,
} from "./shard_graph.ts";
export {
  type CachedShard,
  ensureShardModel,
  shardCacheKey,
  type ShardCacheRequest,
} from "./shard_cache.ts";
export {
  type ExecutionProvider,
  type OpenedSession,
  openSession,
  type SessionRequest,
} from "./ort_session.ts";
export { ort } from "./ort_runtime.ts";
export { fromFloat16Bits, toFloat16Bits } from "./float16.ts";
export {
  dequantizeQ4,
  Q4_BLOCK_SIZE,
  Q4_EMBEDDING_BLOCK_SIZE,
  type Q4Matrix,
  quantizeQ4,
} from "./quantize_q4.ts";
export { LinearEmitter, type LinearOptions } from "./linear_emitter.ts";
export { bytesOf, stackRows, transpose } from "./weight_layout.ts";
