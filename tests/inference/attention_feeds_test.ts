import assert from "node:assert/strict";
import { attentionFeeds } from "../../lib/inference/attention_feeds.ts";
import { ATTENTION_BIAS, POSITION_IDS } from "../../lib/inference/onnx/shard_signature.ts";

const X = -Infinity;

Deno.test("attentionFeeds lets each new token see its cached rows and new tokens up to itself", () => {
  const feeds = attentionFeeds([2], 3, 4);
  assert.deepEqual(feeds[POSITION_IDS].dims, [1, 3]);
  assert.deepEqual([...(feeds[POSITION_IDS].data as BigInt64Array)], [2n, 3n, 4n]);
  assert.deepEqual(feeds[ATTENTION_BIAS].dims, [1, 1, 3, 7]);
  // Columns: capacity 4 cached rows (2 filled), then the 3 new tokens.
  assert.deepEqual([...(feeds[ATTENTION_BIAS].data as Float32Array)], [
    ...[0, 0, X, X, 0, X, X],
    ...[0, 0, X, X, 0, 0, X],
    ...[0, 0, X, X, 0, 0, 0],
  ]);
});

Deno.test("attentionFeeds masks each request of a batch at its own length", () => {
  const feeds = attentionFeeds([0, 3, 1], 1, 3);
  assert.deepEqual([...(feeds[POSITION_IDS].data as BigInt64Array)], [0n, 3n, 1n]);
  assert.deepEqual(feeds[ATTENTION_BIAS].dims, [3, 1, 1, 4]);
  assert.deepEqual([...(feeds[ATTENTION_BIAS].data as Float32Array)], [
    ...[X, X, X, 0],
    ...[0, 0, 0, 0],
    ...[0, X, X, 0],
  ]);
});

Deno.test("attentionFeeds refuses a length beyond the capacity", () => {
  assert.throws(() => attentionFeeds([5], 1, 4), /5 rows exceed capacity 4/);
});
