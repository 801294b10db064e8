import type { ShardDType } from "../inference/onnx/shard_signature.ts";
import type { Architecture } from "./model_config.ts";

/** A model this build knows by a short id. */
export interface ModelCard {
  id: string;
  /** Hugging Face repo; an ungated mirror where the original is gated. */
  repo: string;
  numLayers: number;
  architecture: Architecture;
  displayName: string;
  /**
   * Parameters, as the model's card or the hub's safetensors metadata publishes them
   * (Llama 3.2 1B: 1.24e9, tied embeddings counted once).
   */
  parameters: number;
}

function card(
  id: string,
  repo: string,
  numLayers: number,
  architecture: Architecture,
  displayName: string,
  parameters: number,
): ModelCard {
  return { id, repo, numLayers, architecture, displayName, parameters };
}

/** Every model card, by id. */
export const MODEL_CARDS: ReadonlyMap<string, ModelCard> = new Map(
  [
    card("llama-3.2-1b", "unsloth/Llama-3.2-1B-Instruct", 16, "llama", "Llama 3.2 1B", 1.24e9),
    card("llama-3.2-3b", "unsloth/Llama-3.2-3B-Instruct", 28, "llama", "Llama 3.2 3B", 3.21e9),
    card("llama-3.1-8b", "unsloth/Meta-Llama-3.1-8B-Instruct", 32, "llama", "Llama 3.1 8B", 8.03e9),
    card(
      "llama-3.1-70b",
      "unsloth/Meta-Llama-3.1-70B-Instruct",
      80,
      "llama",
      "Llama 3.1 70B",
      70.6e9,
    ),
    card("llama-3.3-70b", "unsloth/Llama-3.3-70B-Instruct", 80, "llama", "Llama 3.3 70B", 70.6e9),
    card("qwen-2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", 24, "qwen2", "Qwen 2.5 0.5B", 0.49e9),
    card("qwen-2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", 28, "qwen2", "Qwen 2.5 1.5B", 1.54e9),
    card("qwen-2.5-3b", "Qwen/Qwen2.5-3B-Instruct", 36, "qwen2", "Qwen 2.5 3B", 3.09e9),
    card("qwen-2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 28, "qwen2", "Qwen 2.5 7B", 7.61e9),
    card("qwen-2.5-14b", "Qwen/Qwen2.5-14B-Instruct", 48, "qwen2", "Qwen 2.5 14B", 14.7e9),
    card("qwen-2.5-32b", "Qwen/Qwen2.5-32B-Instruct", 64, "qwen2", "Qwen 2.5 32B", 32.5e9),
    card("qwen-2.5-72b", "Qwen/Qwen2.5-72B-Instruct", 80, "qwen2", "Qwen 2.5 72B", 72.7e9),
    card("qwen-3-0.6b", "Qwen/Qwen3-0.6B", 28, "qwen3", "Qwen 3 0.6B", 0.6e9),
    card("qwen-3-1.7b", "Qwen/Qwen3-1.7B", 28, "qwen3", "Qwen 3 1.7B", 1.7e9),
    card("qwen-3-4b", "Qwen/Qwen3-4B", 36, "qwen3", "Qwen 3 4B", 4.0e9),
    card("qwen-3-8b", "Qwen/Qwen3-8B", 36, "qwen3", "Qwen 3 8B", 8.2e9),
    card("qwen-3-14b", "Qwen/Qwen3-14B", 40, "qwen3", "Qwen 3 14B", 14.8e9),
    card("qwen-3-32b", "Qwen/Qwen3-32B", 64, "qwen3", "Qwen 3 32B", 32.8e9),
    card("mistral-7b", "unsloth/mistral-7b-instruct-v0.3", 32, "mistral", "Mistral 7B", 7.25e9),
    card("smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct", 30, "llama", "SmolLM2 135M", 135e6),
    card("smollm2-360m", "HuggingFaceTB/SmolLM2-360M-Instruct", 32, "llama", "SmolLM2 360M", 362e6),
    card(
      "smollm2-1.7b",
      "HuggingFaceTB/SmolLM2-1.7B-Instruct",
      24,
      "llama",
      "SmolLM2 1.7B",
      1.71e9,
    ),
    card(
      "deepseek-r1-distill-qwen-1.5b",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
      28,
      "qwen2",
      "DeepSeek R1 Distill Qwen 1.5B",
      1.78e9,
    ),
    card(
      "deepseek-r1-distill-qwen-7b",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
      28,
      "qwen2",
      "DeepSeek R1 Distill Qwen 7B",
      7.62e9,
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

/** Bytes per parameter of a checkpoint as the hub stores it: bf16. */
const CHECKPOINT_BYTES_PER_PARAMETER = 2;

/**
 * Bytes of memory per parameter a cluster needs to serve a model in each dtype, measured
 * on this engine: `bench:engine --shapes llama-3.2-1b --dtypes q4,float32 --prompt 512
 * --long 200` (1.236e9 parameters, 2 CPU threads) peaked at 1.167e9 bytes of RSS in q4
 * (0.832e9 of weights: 0.67 bytes a parameter, 4-bit blocks of 128 with float32 scales) and
 * 5.249e9 in float32 (4.945e9 of weights). Peak RSS over parameters, rounded up: q4 0.95
 * (0.944), float32 4.25 (4.247). The peak holds the runtime, a 700-token KV cache and ONNX
 * Runtime's buffers beside the weights; on a larger model the runtime's fixed ~0.3e9 bytes
 * weigh less but a long context's cache more. float16 (CoreML and WebGPU keep
 * half-precision weights) takes float32's ratio of peak to weights (1.06) over 2 bytes.
 * The CPU widens float16 weights to float32 at load, so a CPU node run in float16 needs
 * float32's figure.
 */
export const SERVING_BYTES_PER_PARAMETER: Readonly<Record<ShardDType, number>> = {
  q4: 0.95,
  float16: 2.12,
  float32: 4.25,
};

/** A registry model's size. */
export interface ModelSize {
  parameters: number;
  /** About how many bytes the checkpoint is on the hub (bf16). */
  downloadBytes: number;
  /** About how much memory the cluster needs to serve it in `dtype`; null without one. */
  memoryBytes: number | null;
}

/** The size of a registry model, its memory in `dtype` (null: not known). */
export function modelSize(card: ModelCard, dtype: ShardDType | null): ModelSize {
  return {
    parameters: card.parameters,
    downloadBytes: Math.round(card.parameters * CHECKPOINT_BYTES_PER_PARAMETER),
    memoryBytes: dtype === null
      ? null
      : Math.round(card.parameters * SERVING_BYTES_PER_PARAMETER[dtype]),
  };
}
