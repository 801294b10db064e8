/**
 * A well-formed config.json describes a model this engine cannot run: another architecture,
 * another rope scaling, a quantized checkpoint. Callers catch it to answer "model not
 * supported" rather than reporting a broken file.
 */
export class UnsupportedModelError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnsupportedModelError";
  }
}
