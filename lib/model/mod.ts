/**
 * Model files: Hugging Face config parsing, the safetensors reader for single-file and
 * sharded checkpoints, the list of tensors each pipeline shard needs, the model registry,
 * and shard-aware downloads from the Hugging Face hub into its cache layout.
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
export {
  type KnownModel,
  ModelResolver,
  type ModelResolverOptions,
  type ResolvedModel,
} from "./model_resolver.ts";
export { ModelNotFoundError } from "./model_not_found_error.ts";
export { ModelDownloader, type ModelDownloaderOptions } from "./model_downloader.ts";
export {
  HubClient,
  type HubClientOptions,
  type RemoteFile,
  type RepoRevision,
} from "./hub_client.ts";
export { HubAccessError } from "./hub_access_error.ts";
export { type HubFailure, HubUnreachableError } from "./hub_unreachable_error.ts";
export { findHubFailure, ModelUnreachableError } from "./model_unreachable_error.ts";
export { BlobDownloadError, downloadBlob } from "./blob_download.ts";
export {
  type DownloadEvent,
  DownloadTracker,
  type FileProgress,
  parseDownloadEvent,
} from "./download_progress.ts";
export {
  blobPath,
  findSnapshot,
  hubCacheDir,
  linkSnapshotFile,
  readRef,
  repoCacheFolder,
  snapshotDir,
  writeRef,
} from "./hub_cache.ts";
export { hubEndpoint, hubOfflineFromEnv, hubToken } from "./hub_settings.ts";
export {
  type LayerRange,
  MODEL_META_FILES,
  REQUIRED_META_FILES,
  shardWeightFiles,
} from "./shard_files.ts";
