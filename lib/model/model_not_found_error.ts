/** The named model is not in the registry, not a Hugging Face repo and not a local directory. */
export class ModelNotFoundError extends Error {
  /** The model as named. */
  readonly model: string;
  /** Known model ids close to the name, best first. */
  readonly suggestions: string[];
  /**
   * The name designates nothing (not a registry id, hub repo or model directory), as
   * opposed to a known model whose files are missing: callers add where to find the names.
   */
  readonly unknownName: boolean;

  /** Builds the error; the message lists the suggestions. */
  constructor(
    model: string,
    suggestions: string[] = [],
    detail?: string,
    options: { unknownName?: boolean } = {},
  ) {
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "";
    super(`Model ${JSON.stringify(model)} not found${detail ? `: ${detail}` : ""}${hint}`);
    this.name = "ModelNotFoundError";
    this.model = model;
    this.suggestions = suggestions;
    this.unknownName = options.unknownName ?? false;
  }
}
