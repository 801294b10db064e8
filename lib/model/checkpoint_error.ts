/**
 * A checkpoint on disk is damaged, incomplete or not the model its config describes: a
 * corrupt safetensors header, tensor bytes past the end of the file, a tensor the config
 * needs that no file holds, or one with the wrong shape or dtype.
 *
 * Callers catch it to tell a bad download (worth deleting and fetching again) from an I/O
 * failure or a bug; the message names the file and the tensor.
 */
export class CheckpointError extends Error {
  /** Creates the error; `options.cause` keeps an underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointError";
  }
}
