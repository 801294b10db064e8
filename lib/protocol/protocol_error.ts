/**
 * The one error a {@linkcode FrameDecoder} throws: the peer sent bytes that are not a valid
 * frame. The transport is expected to catch it, log the message and close that connection.
 */
export class ProtocolError extends Error {
  /** Creates a protocol error; `message` says what was wrong with the bytes. */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}
