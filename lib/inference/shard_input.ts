import type { ModelConfig } from "../model/model_config.ts";
import type { ShardSignature } from "./onnx/shard_signature.ts";

/** A step's input: token ids on the first shard, hidden states on the others. */
export type ShardInput =
  | { tokenIds: number[] }
  | { hidden: Float32Array; seq: number }; // hidden: [1, seq, hiddenSize]

/** A step's output: hidden states for the next shard, or the last position's logits. */
export type ShardOutput =
  | { kind: "hidden"; hidden: Float32Array; seq: number } // [1, seq, hiddenSize]
  | { kind: "logits"; logits: Float32Array }; // [vocabSize]

/**
 * Checks a step's input against the shard (token ids only on the first shard, hidden
 * states of the right size elsewhere) and returns its token count.
 * @throws {TypeError} for the wrong kind of input, {RangeError} for bad ids or sizes.
 */
export function checkShardInput(
  config: ModelConfig,
  signature: ShardSignature,
  input: ShardInput,
): number {
  let seq: number;
  if ("tokenIds" in input) {
    if (!signature.isFirst) {
      throw new TypeError(
        `Cannot run shard step: layers ${signature.startLayer}..${signature.endLayer} take hidden states, not token ids`,
      );
    }
    seq = input.tokenIds.length;
    for (const id of input.tokenIds) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
        throw new RangeError(
          `Cannot run shard step: token id ${id} is outside 0..${config.vocabSize - 1}`,
        );
      }
    }
  } else {
    if (signature.isFirst) {
      throw new TypeError(
        "Cannot run shard step: the first shard takes token ids, not hidden states",
      );
    }
    seq = input.seq;
    if (!Number.isInteger(seq) || input.hidden.length !== seq * config.hiddenSize) {
      throw new RangeError(
        `Cannot run shard step: hidden has ${input.hidden.length} values, expected ${seq}x${config.hiddenSize}`,
      );
    }
  }
  if (seq < 1) throw new RangeError("Cannot run shard step: the input holds no token");
  return seq;
}
