/**
 * Model files: Hugging Face config parsing, the safetensors reader for single-file and
 * sharded checkpoints, and the list of tensors each pipeline shard needs.
 *
 * ```ts
 * const config = await loadModelConfig(modelDir);
 * const reader = await CheckpointReader.open(modelDir);
 * const range = { startLayer: 0, endLayer: 7, isFirst: true, isLast: false };
 * await verifyShardTensors(reader, config, range);
 * const embed = await reader.readFloat32("model.embed_tokens.weight"); // [vocab, hidden]
 * reader.close();
 * ```
 *
 * @module
 */

export type { Architecture, Llama3RopeScaling, ModelConfig } from "./model_config.ts";
export { loadModelConfig, mergeGenerationConfig, parseModelConfig } from "./hf_config.ts";
export { findModelCard, MODEL_CARDS, type ModelCard } from "./registry.ts";
export { UnsupportedModelError } from "./unsupported_model_error.ts";
export { CheckpointError } from "./checkpoint_error.ts";
export {
  MAX_SAFETENSORS_HEADER_BYTES,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  SAFETENSORS_ITEM_SIZE,
  SAFETENSORS_PREFIX_BYTES,
  type SafetensorsDType,
  type SafetensorsHeader,
  type TensorInfo,
} from "./safetensors_header.ts";
export { SafetensorsFile } from "./safetensors_file.ts";
export {
  parseSafetensorsIndex,
  SAFETENSORS_INDEX_FILE,
  SAFETENSORS_SINGLE_FILE,
} from "./safetensors_index.ts";
export { CheckpointReader } from "./checkpoint_reader.ts";
export {
  bfloat16BytesToFloat32,
  decodeBfloat16Into,
  decodeFloat16Into,
  float16BytesToFloat32,
} from "./float_conversion.ts";
export {
  type ShardRange,
  shardTensorNames,
  shardTensorShapes,
  verifyShardTensors,
} from "./shard_tensor_names.ts";
