/**
 * Which repository files a node needs: the config and tokenizer files every role needs,
 * and the weight files holding one shard's tensors.
 *
 * @module
 */

import { join } from "node:path";
import { CheckpointError } from "./checkpoint_error.ts";
import type { ModelConfig } from "./model_config.ts";
import {
  parseSafetensorsIndex,
  SAFETENSORS_INDEX_FILE,
  SAFETENSORS_SINGLE_FILE,
} from "./safetensors_index.ts";
import { shardTensorNames } from "./shard_tensor_names.ts";

/** A layer range, inclusive; `null` in place of one means "no weights, config only". */
export interface LayerRange {
  startLayer: number;
  endLayer: number;
}

/** Config and tokenizer files fetched when the repository has them. */
export const MODEL_META_FILES: readonly string[] = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "chat_template.jinja",
];

/** The meta files a model directory cannot do without. */
export const REQUIRED_META_FILES: readonly string[] = ["config.json", "tokenizer.json"];

/**
 * The weight files holding the tensors of layers `range` (and the embedding and head when
 * the range is at an end), from the index's `weight_map`; in the order the index first
 * names them.
 * @throws {CheckpointError} when the index lacks a tensor the shard needs.
 */
export function shardWeightFiles(
  config: ModelConfig,
  range: LayerRange,
  weightMap: ReadonlyMap<string, string>,
): string[] {
  const names = shardTensorNames(
    config,
    range.startLayer,
    range.endLayer,
    range.startLayer === 0,
    range.endLayer === config.numLayers - 1,
  );
  const files = new Set<string>();
  for (const name of names) {
    const file = weightMap.get(name);
    if (file === undefined) {
      throw new CheckpointError(
        `Cannot select the weight files of layers ${range.startLayer}..${range.endLayer}: the index has no tensor ${name}`,
      );
    }
    files.add(file);
  }
  return [...files];
}

/**
 * The weight files of a shard of the model in `dir`: those the local index names, or the
 * single `model.safetensors` when there is no index.
 */
export async function localShardWeightFiles(
  dir: string,
  config: ModelConfig,
  range: LayerRange,
): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, SAFETENSORS_INDEX_FILE));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [SAFETENSORS_SINGLE_FILE];
    throw error;
  }
  const source = join(dir, SAFETENSORS_INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(
      `Cannot read safetensors index ${source}: ${(error as Error).message}`,
    );
  }
  return shardWeightFiles(config, range, parseSafetensorsIndex(json, source));
}
