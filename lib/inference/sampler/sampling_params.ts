/** How the next token is drawn from the logits (OpenAI's names, camelCased). */
export interface SamplingParams {
  /** 0 picks the most likely token; larger values flatten the distribution. */
  temperature: number;
  /** Nucleus size in (0, 1]: the smallest set of likeliest tokens whose probability reaches it. */
  topP: number;
  /** Keep only the k likeliest tokens; 0 keeps all. */
  topK: number;
}

/**
 * Checks sampling parameters before any token is drawn.
 *
 * @throws {RangeError} When temperature is negative or not finite, topP is outside (0, 1],
 * or topK is not an integer >= 0.
 */
export function validateSamplingParams(params: SamplingParams): void {
  const { temperature, topP, topK } = params;
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`Cannot use temperature ${temperature}: must be a finite number >= 0`);
  }
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1)) {
    throw new RangeError(`Cannot use top_p ${topP}: must be in (0, 1]`);
  }
  if (!Number.isSafeInteger(topK) || topK < 0) {
    throw new RangeError(`Cannot use top_k ${topK}: must be an integer >= 0`);
  }
}
