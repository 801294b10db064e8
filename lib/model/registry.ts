import type { Architecture } from "./model_config.ts";

/** A model this build knows by a short id. */
export interface ModelCard {
  id: string;
  /** Hugging Face repo; an ungated mirror where the original is gated. */
  repo: string;
  numLayers: number;
  architecture: Architecture;
  displayName: string;
}

function card(
  id: string,
  repo: string,
  numLayers: number,
  architecture: Architecture,
  displayName: string,
): ModelCard {
  return { id, repo, numLayers, architecture, displayName };
}

/** Every model card, by id. */
export const MODEL_CARDS: ReadonlyMap<string, ModelCard> = new Map(
  [
    card("llama-3.2-1b", "unsloth/Llama-3.2-1B-Instruct", 16, "llama", "Llama 3.2 1B"),
    card("llama-3.2-3b", "unsloth/Llama-3.2-3B-Instruct", 28, "llama", "Llama 3.2 3B"),
    card("llama-3.1-8b", "unsloth/Meta-Llama-3.1-8B-Instruct", 32, "llama", "Llama 3.1 8B"),
    card("llama-3.1-70b", "unsloth/Meta-Llama-3.1-70B-Instruct", 80, "llama", "Llama 3.1 70B"),
    card("llama-3.3-70b", "unsloth/Llama-3.3-70B-Instruct", 80, "llama", "Llama 3.3 70B"),
    card("qwen-2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", 24, "qwen2", "Qwen 2.5 0.5B"),
    card("qwen-2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", 28, "qwen2", "Qwen 2.5 1.5B"),
    card("qwen-2.5-3b", "Qwen/Qwen2.5-3B-Instruct", 36, "qwen2", "Qwen 2.5 3B"),
    card("qwen-2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 28, "qwen2", "Qwen 2.5 7B"),
    card("qwen-2.5-14b", "Qwen/Qwen2.5-14B-Instruct", 48, "qwen2", "Qwen 2.5 14B"),
    card("qwen-2.5-32b", "Qwen/Qwen2.5-32B-Instruct", 64, "qwen2", "Qwen 2.5 32B"),
    card("qwen-2.5-72b", "Qwen/Qwen2.5-72B-Instruct", 80, "qwen2", "Qwen 2.5 72B"),
    card("qwen-3-0.6b", "Qwen/Qwen3-0.6B", 28, "qwen3", "Qwen 3 0.6B"),
    card("qwen-3-1.7b", "Qwen/Qwen3-1.7B", 28, "qwen3", "Qwen 3 1.7B"),
    card("qwen-3-4b", "Qwen/Qwen3-4B", 36, "qwen3", "Qwen 3 4B"),
    card("qwen-3-8b", "Qwen/Qwen3-8B", 36, "qwen3", "Qwen 3 8B"),
    card("qwen-3-14b", "Qwen/Qwen3-14B", 40, "qwen3", "Qwen 3 14B"),
    card("qwen-3-32b", "Qwen/Qwen3-32B", 64, "qwen3", "Qwen 3 32B"),
    card("mistral-7b", "unsloth/mistral-7b-instruct-v0.3", 32, "mistral", "Mistral 7B"),
    card("smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct", 30, "llama", "SmolLM2 135M"),
    card("smollm2-360m", "HuggingFaceTB/SmolLM2-360M-Instruct", 32, "llama", "SmolLM2 360M"),
    card("smollm2-1.7b", "HuggingFaceTB/SmolLM2-1.7B-Instruct", 24, "llama", "SmolLM2 1.7B"),
    card(
      "deepseek-r1-distill-qwen-1.5b",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
      28,
      "qwen2",
      "DeepSeek R1 Distill Qwen 1.5B",
    ),
    card(
      "deepseek-r1-distill-qwen-7b",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
      28,
      "qwen2",
      "DeepSeek R1 Distill Qwen 7B",
    ),
  ].map((c) => [c.id, c]),
);

/** Looks a model up by its registry id or its Hugging Face repo id. */
export function findModelCard(name: string): ModelCard | undefined {
  const byId = MODEL_CARDS.get(name.toLowerCase());
  if (byId) return byId;
  for (const c of MODEL_CARDS.values()) {
    if (c.repo.toLowerCase() === name.toLowerCase()) return c;
  }
  return undefined;
}
