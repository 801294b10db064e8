import { loadModelConfig } from "../model/hf_config.ts";
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
