/**
 * Is a GGUF file the same model as our checkpoint? Compares, position by position, the most
 * likely next tokens and their log-probabilities from our engine with llama.cpp's, teacher
 * forced on our greedy continuation: when llama.cpp's most likely token equals ours at every
 * position, its own greedy decoding gives the same tokens. Random weights can put two tokens
 * within rounding of each other; a position whose top two are that close counts as a near
 * tie, not a disagreement.
 *
 * @module
 */

/** One position's most likely next tokens: [token id, log-probability], best first. */
export type TopTokens = [number, number][];

/** Tolerances of {@linkcode compareTopTokens}. */
export interface MatchTolerance {
  /** Our top two closer than this (in log-probability) make a near tie. */
  tieMargin: number;
  /** Largest |log p ours − log p llama.cpp| for a token in both top lists. */
  logProb: number;
}

/** Defaults: llama.cpp keeps its KV cache in F16, which moves log-probabilities ~1e-2. */
export const DEFAULT_TOLERANCE: MatchTolerance = { tieMargin: 0.05, logProb: 0.1 };

/** How llama.cpp's next-token distributions compare with ours. */
export interface ModelMatch {
  positions: number;
  /** Positions where llama.cpp's most likely token is ours. */
  agreeing: number;
  /** Positions that differ where our top two were within the tie margin. */
  nearTies: number;
  /** Largest log-probability difference over tokens in both top lists. */
  maxLogProbDiff: number;
  /** Every position agrees or is a near tie, and log-probabilities are within tolerance. */
  same: boolean;
  /** One line, e.g. "greedy tokens equal at 16/16 positions, log-probabilities within 0.012". */
  summary: string;
}

/**
 * The `k` most likely tokens of a logits row, with log-probabilities (log-softmax in
 * float64), best first.
 */
export function topLogProbs(logits: ArrayLike<number>, k: number): TopTokens {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logZ = max + Math.log(sum);
  const best: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (best.length < k || logits[i] > logits[best[best.length - 1]]) {
      best.push(i);
      best.sort((a, b) => logits[b] - logits[a] || a - b);
      if (best.length > k) best.pop();
    }
  }
  return best.map((id) => [id, logits[id] - logZ]);
}

/**
 * Compares our top tokens with llama.cpp's, position by position.
 * @throws {RangeError} when the two lists have different lengths or a position is empty.
 */
export function compareTopTokens(
  ours: readonly TopTokens[],
  theirs: readonly TopTokens[],
  tolerance: MatchTolerance = DEFAULT_TOLERANCE,
): ModelMatch {
  if (ours.length !== theirs.length || ours.length === 0) {
    throw new RangeError(
      `Cannot compare: ${ours.length} positions of ours against ${theirs.length} of llama.cpp`,
    );
  }
  let agreeing = 0;
  let nearTies = 0;
  let maxLogProbDiff = 0;
  let firstDisagreement = "";
  for (let i = 0; i < ours.length; i++) {
    const [mine, other] = [ours[i], theirs[i]];
    if (mine.length === 0 || other.length === 0) {
      throw new RangeError(`Cannot compare: position ${i} has no tokens`);
    }
    const theirLogProb = new Map(other);
    for (const [id, logProb] of mine) {
      const matching = theirLogProb.get(id);
      if (matching !== undefined) {
        maxLogProbDiff = Math.max(maxLogProbDiff, Math.abs(logProb - matching));
      }
    }
    if (mine[0][0] === other[0][0]) {
      agreeing++;
    } else if (mine.length > 1 && mine[0][1] - mine[1][1] < tolerance.tieMargin) {
      nearTies++;
    } else if (firstDisagreement === "") {
      firstDisagreement = `; position ${i}: ours ${mine[0][0]}, llama.cpp ${other[0][0]}`;
    }
  }
  const positions = ours.length;
  const same = agreeing + nearTies === positions && maxLogProbDiff <= tolerance.logProb;
  const ties = nearTies > 0 ? ` (${nearTies} near ties)` : "";
  const summary = `greedy tokens equal at ${agreeing}/${positions} positions${ties}, ` +
    `log-probabilities within ${maxLogProbDiff.toFixed(3)} (tolerance ${tolerance.logProb})` +
    firstDisagreement;
  return { positions, agreeing, nearTies, maxLogProbDiff, same, summary };
}
