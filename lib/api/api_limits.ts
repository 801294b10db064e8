/** The bounds the HTTP API puts on every request. */
export interface ApiLimits {
  /** Largest request body in bytes; a larger one is answered with 413. */
  maxBodyBytes: number;
  /** The model for requests that name none; without it, `model` is required. */
  defaultModel?: string;
  /**
   * The node's `--max-generate-tokens`: a larger `max_tokens` or `max_completion_tokens`
   * is clamped to it, not refused.
   */
  maxGenerateTokens: number;
}
