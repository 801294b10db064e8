import { join } from "node:path";
import { writeRandomCheckpoint, type WrittenCheckpoint } from "../fixtures/make_checkpoint.ts";
import { loadReferenceWeights, referenceForward } from "../reference/llama_reference.ts";
import { ModelTokenizer } from "../../lib/inference/tokenizer/model_tokenizer.ts";

/** A small random-weight Llama checkpoint with the tiny tokenizer, in `dir`. */
export function writeTestModel(dir: string): Promise<WrittenCheckpoint> {
  return writeRandomCheckpoint(join(dir, "model"), {
    architecture: "llama",
    numLayers: 6,
    hiddenSize: 64,
    seed: 11,
  });
}

/**
 * The greedy continuation of `promptIds` by the float64 reference forward pass, recomputed
 * from scratch for every token: at most `maxTokens` ids, ending early at an EOS id.
 */
export async function referenceGreedy(
  model: WrittenCheckpoint,
  promptIds: number[],
  maxTokens: number,
): Promise<{ ids: number[]; finishReason: "stop" | "length" }> {
  const weights = await loadReferenceWeights(model.dir);
  const tokenizer = await ModelTokenizer.load(model.dir);
  const ids: number[] = [];
  while (ids.length < maxTokens) {
    const logits = referenceForward(weights, model.config, [...promptIds, ...ids]);
    const last = logits[logits.length - 1];
    let best = 0;
    for (let i = 1; i < last.length; i++) if (last[i] > last[best]) best = i;
    ids.push(best);
    if (tokenizer.eosTokenIds.has(best)) return { ids, finishReason: "stop" };
  }
  return { ids, finishReason: "length" };
}

/** The text a client sees for generated ids: special tokens (EOS) left out. */
export async function visibleText(model: WrittenCheckpoint, ids: number[]): Promise<string> {
  const tokenizer = await ModelTokenizer.load(model.dir);
  return tokenizer.decode(ids, { skipSpecialTokens: true });
}
