import { loadModelConfig } from "../model/hf_config.ts";
import type { ModelResolver } from "../model/model_resolver.ts";
import { ModelNotFoundError } from "../model/model_not_found_error.ts";
import { findModelCard } from "../model/registry.ts";

/** A model's id and layer count, enough to compute the layer split. */
export interface ModelLayers {
  id: string;
  numLayers: number;
}

/**
 * Finds the layer count of `--default-model`: a registry id or Hugging Face repo of the
 * registry, or a local model directory with a config.json. Returns null with a reason when
 * it is not known, so the node still starts (the split is shown once it is known).
 */
export async function resolveModelLayers(
  name: string,
): Promise<{ model: ModelLayers } | { reason: string }> {
  const card = findModelCard(name);
  if (card) return { model: { id: card.id, numLayers: card.numLayers } };
  try {
    const config = await loadModelConfig(name.replace(/\/+$/, ""));
    return { model: { id: name, numLayers: config.numLayers } };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { reason: `${name} is neither a registry model nor a directory with a config.json` };
    }
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Finds a model's canonical id and layer count from what this node has, never downloading:
 * the registry card, else the config.json of a local model directory or of the repo in the
 * hub cache or seed dir. Null when the name designates nothing or its config is not here.
 * @throws {Error} when the config.json found cannot be read (see `loadModelConfig`).
 */
export async function localModelLayers(
  name: string,
  resolver?: ModelResolver,
): Promise<ModelLayers | null> {
  const card = findModelCard(name.trim());
  if (card) return { id: card.id, numLayers: card.numLayers };
  if (resolver === undefined) return null;
  try {
    const local = await resolver.findLocal(name);
    if (local === null) return null;
    return { id: local.id, numLayers: (await loadModelConfig(local.dir)).numLayers };
  } catch (error) {
    if (error instanceof ModelNotFoundError) return null;
    throw error;
  }
}
