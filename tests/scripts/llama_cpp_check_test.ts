import assert from "node:assert/strict";
import { compareTopTokens, topLogProbs, type TopTokens } from "../../scripts/_llama_cpp_check.ts";

Deno.test("topLogProbs gives the k most likely tokens with their log-softmax, best first", () => {
  const top = topLogProbs([0, 3, 1, 3 + Math.log(2)], 3);
  const logZ = Math.log(1 + Math.exp(3) + Math.exp(1) + 2 * Math.exp(3));
  assert.deepEqual(top.map(([id]) => id), [3, 1, 2]);
  assert.ok(Math.abs(top[0][1] - (3 + Math.log(2) - logZ)) < 1e-12);
  assert.ok(Math.abs(top[2][1] - (1 - logZ)) < 1e-12);
  // Equal logits keep the lower id first.
  assert.deepEqual(topLogProbs([5, 5, 5], 2).map(([id]) => id), [0, 1]);
});

const position = (...entries: [number, number][]): TopTokens => entries;

Deno.test("compareTopTokens calls two runs the same model when every greedy token and log-probability agrees", () => {
  const ours = [position([4, -0.1], [7, -2.5]), position([9, -0.3], [1, -1.7])];
  const theirs = [position([4, -0.12], [7, -2.45]), position([9, -0.31], [1, -1.69])];
  const match = compareTopTokens(ours, theirs);
  assert.equal(match.same, true);
  assert.equal(match.agreeing, 2);
  assert.ok(Math.abs(match.maxLogProbDiff - 0.05) < 1e-9);
  assert.match(
    match.summary,
    /greedy tokens equal at 2\/2 positions, log-probabilities within 0\.050/,
  );
});

Deno.test("compareTopTokens lets a near tie of ours go either way, but not a clear winner", () => {
  const nearTie = [position([4, -0.70], [7, -0.72])];
  const flipped = [position([7, -0.70], [4, -0.71])];
  const tie = compareTopTokens(nearTie, flipped);
  assert.equal(tie.same, true);
  assert.equal(tie.nearTies, 1);
  assert.match(tie.summary, /0\/1 positions \(1 near ties\)/);

  const clear = compareTopTokens([position([4, -0.1], [7, -2.5])], [
    position([7, -0.1], [4, -2.5]),
  ]);
  assert.equal(clear.same, false);
  assert.match(clear.summary, /position 0: ours 4, llama\.cpp 7/);
});

Deno.test("compareTopTokens fails a run whose log-probabilities drift beyond the tolerance", () => {
  const match = compareTopTokens(
    [position([4, -0.1], [7, -2.5])],
    [position([4, -0.4], [7, -2.5])],
    { tieMargin: 0.05, logProb: 0.1 },
  );
  assert.equal(match.agreeing, 1);
  assert.equal(match.same, false);
  assert.throws(() => compareTopTokens([], []), RangeError);
  assert.throws(() => compareTopTokens([position([1, 0])], []), /1 positions of ours against 0/);
});
