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
  const configPath = `${name.replace(/\/+$/, "")}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(configPath);
  } catch {
    return { reason: `${name} is neither a registry model nor a directory with a config.json` };
  }
  let layers: unknown;
  try {
    layers = (JSON.parse(text) as Record<string, unknown>)?.num_hidden_layers;
  } catch (error) {
    return { reason: `${configPath} is not valid JSON: ${(error as Error).message}` };
  }
  if (!Number.isSafeInteger(layers) || (layers as number) < 1) {
    return { reason: `${configPath} has no positive integer num_hidden_layers` };
  }
  return { model: { id: name, numLayers: layers as number } };
}
