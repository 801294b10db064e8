import { ort } from "./onnx/ort_runtime.ts";
import { ATTENTION_BIAS, POSITION_IDS } from "./onnx/shard_signature.ts";

/**
 * The shard graph's attention inputs for `seq` new tokens of each request, whose caches
 * hold `lengths[b]` valid rows of `capacity`: `position_ids` [batch, seq] and
 * `attention_bias` [batch, 1, seq, capacity + seq], which lets token s of request b see its
 * cached rows and the new tokens up to itself, and masks the rest (unfilled rows included).
 */
export function attentionFeeds(
  lengths: number[],
  seq: number,
  capacity: number,
): Record<string, ort.Tensor> {
  const batch = lengths.length;
  const total = capacity + seq;
  const positions = new BigInt64Array(batch * seq); // [batch, seq]
  const bias = new Float32Array(batch * seq * total).fill(-Infinity); // [batch, 1, seq, total]
  lengths.forEach((length, b) => {
    if (length > capacity) {
      throw new RangeError(`Cannot mask attention: ${length} rows exceed capacity ${capacity}`);
    }
    for (let s = 0; s < seq; s++) {
      positions[b * seq + s] = BigInt(length + s);
      const row = (b * seq + s) * total;
      bias.fill(0, row, row + length);
      bias.fill(0, row + capacity, row + capacity + s + 1);
    }
  });
  return {
    [POSITION_IDS]: new ort.Tensor("int64", positions, [batch, seq]),
    [ATTENTION_BIAS]: new ort.Tensor("float32", bias, [batch, 1, seq, total]),
  };
}
