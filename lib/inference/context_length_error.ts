/** A request would hold more tokens than the shard's context; callers report it to the user. */
export class ContextLengthError extends RangeError {
  /** Tokens the request would hold. */
  readonly length: number;
  /** The context the shard serves. */
  readonly maxContext: number;

  /** Builds the error; `what` names the thing that is too long, e.g. "prompt". */
  constructor(what: string, length: number, maxContext: number) {
    super(
      `Cannot run ${what}: ${length} tokens exceed the model context of ${maxContext} tokens`,
    );
    this.name = "ContextLengthError";
    this.length = length;
    this.maxContext = maxContext;
  }
}
