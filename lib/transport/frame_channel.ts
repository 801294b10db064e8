import { formatAddress } from "../discovery/peers_file.ts";
import { encodeMessageParts, FrameDecoder } from "../protocol/mod.ts";
import type { Message } from "../protocol/mod.ts";

const READ_BUFFER_BYTES = 64 * 1024;
/** Frames up to this size are encoded into one reused buffer when written at once. */
const SCRATCH_BYTES = 64 * 1024;
/** A frame body missing at least this much is read straight into place, not copied. */
const DIRECT_READ_MIN_BYTES = 64 * 1024;

/**
 * A byte stream carrying protocol frames: serialized writes, and reads decoded into
 * whole messages. The decoder's frame limit starts small and is raised after the handshake.
 */
export class FrameChannel {
  #conn: Deno.Conn;
  #decoder: FrameDecoder;
  #readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  #pending: Message[] = [];
  #pendingHead = 0;
  #writeChain: Promise<void> = Promise.resolve();
  #scratch = new Uint8Array(SCRATCH_BYTES);
  /** Sends queued or being written; when 0 a send may start writing at once. */
  #writesPending = 0;
  #closed = false;

  /** Wraps an open connection; frames above `maxFrameBytes` are a protocol error. */
  constructor(conn: Deno.Conn, maxFrameBytes: number) {
    this.#conn = conn;
    this.#decoder = new FrameDecoder({ maxFrameBytes });
  }

  /** The largest frame accepted from now on. */
  set maxFrameBytes(bytes: number) {
    this.#decoder.maxFrameBytes = bytes;
  }

  /** The remote address as "host:port". */
  get remoteAddress(): string {
    const addr = this.#conn.remoteAddr as Deno.NetAddr;
    return formatAddress(addr.hostname, addr.port);
  }

  /** Whether `close` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Encodes and writes one message after every earlier write has finished. Rejects when
   * the connection fails; later sends then reject too.
   */
  send(message: Message): Promise<void> {
    // Counted before it is queued, so a later send can never overtake a queued one.
    const queued = this.#writesPending++ > 0;
    let parts: Uint8Array[];
    try {
      // Only a frame written at once may use the scratch buffer: the next send waits for this
      // write to finish before it can reuse it.
      parts = encodeMessageParts(message, queued ? null : this.#scratch);
    } catch (error) {
      this.#writesPending--;
      throw error;
    }
    const write =
      (queued ? this.#writeChain.then(() => this.#writeParts(parts)) : this.#writeParts(parts))
        .finally(() => this.#writesPending--);
    this.#writeChain = write.catch(() => {});
    return write;
  }

  /**
   * Returns the next message, or null when the peer closed the stream. Throws a
   * ProtocolError on malformed input and an I/O error when the connection breaks.
   */
  async receive(): Promise<Message | null> {
    while (this.#pendingHead >= this.#pending.length) {
      this.#pending.length = 0;
      this.#pendingHead = 0;
      const body = this.#decoder.pendingBody();
      if (body !== null && body.byteLength >= DIRECT_READ_MIN_BYTES) {
        const n = await this.#conn.read(body);
        if (n === null) return null;
        for (const message of this.#decoder.advance(n)) this.#pending.push(message);
        continue;
      }
      const n = await this.#conn.read(this.#readBuffer);
      if (n === null) return null;
      const messages = this.#decoder.push(this.#readBuffer.subarray(0, n));
      for (const message of messages) this.#pending.push(message);
    }
    return this.#pending[this.#pendingHead++];
  }

  /** Closes the connection; pending reads end and pending writes reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  async #writeParts(parts: Uint8Array[]): Promise<void> {
    if (this.#closed) throw new Deno.errors.BrokenPipe("Cannot send frame: connection closed");
    for (const part of parts) {
      let offset = 0;
      while (offset < part.length) offset += await this.#conn.write(part.subarray(offset));
    }
  }
}
