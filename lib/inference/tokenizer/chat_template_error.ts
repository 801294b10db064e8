/**
 * A chat could not be rendered through the model's chat template: the template raised
 * (e.g. roles that do not alternate) or the model has none. Callers serving a request catch
 * it and answer with a client error, since the conversation is what the template refused.
 */
export class ChatTemplateError extends Error {
  /**
   * @param message What went wrong, naming the file the template came from.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChatTemplateError";
  }
}
