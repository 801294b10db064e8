import { decodeMessageBody } from "./decode_message_body.ts";
import {
  BODY_HEADER_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_PREFIX_BYTES,
  MAX_U32,
} from "./limits.ts";
import type { Message } from "./messages.ts";
import { TENSOR_ALIGNMENT } from "./limits.ts";

/** Bodies up to this size come from a slab. */
const SLAB_BODY_MAX_BYTES = 16 * 1024;
/** Size of one slab of small bodies. */
const SLAB_BYTES = 256 * 1024;
import { ProtocolError } from "./protocol_error.ts";

/** Options for {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest body length accepted, in bytes; 1 GiB by default. */
  maxFrameBytes?: number;
}

/**
 * Turns a byte stream into messages. It does no I/O: the transport pushes each chunk it
 * reads and gets back every message completed by it; partial frames are kept for the next
 * push. Each body is copied once into its own buffer, allocated when its length prefix
 * arrives, so decoded tensor data is 8-aligned and never aliases a pushed chunk.
 *
 * After a {@linkcode ProtocolError} the decoder is poisoned: every later push throws the
 * same error, since the stream can no longer be resynchronised.
 *
 * @example Read messages from a connection
 * ```ts
 * const decoder = new FrameDecoder({ maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES });
 * for await (const chunk of connection.readable) {
 *   for (const message of decoder.push(chunk)) handle(message);
 * }
 * ```
 */
export class FrameDecoder {
  #maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  #prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  #prefixFilled = 0;
  /** The body being filled, or null while reading a length prefix. */
  #body: Uint8Array | null = null;
  #bodyFilled = 0;
  #error: ProtocolError | null = null;
  /** Small bodies are carved from a shared slab: one allocation per slab, not per frame. */
  #slab: Uint8Array | null = null;
  #slabUsed = 0;

  /**
   * Creates a decoder.
   *
   * @throws {RangeError} If `maxFrameBytes` is not an integer in [4, 2^32 - 1].
   */
  constructor(options: FrameDecoderOptions = {}) {
    if (options.maxFrameBytes !== undefined) this.maxFrameBytes = options.maxFrameBytes;
  }

  /** Largest body length accepted, in bytes; checked as soon as a length prefix arrives. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /**
   * Changes the largest body length accepted from the next length prefix on.
   *
   * @throws {RangeError} If `value` is not an integer in [4, 2^32 - 1].
   */
  set maxFrameBytes(value: number) {
    if (!Number.isInteger(value) || value < BODY_HEADER_BYTES || value > MAX_U32) {
      throw new RangeError(
        `Cannot set maxFrameBytes: ${value} is not an integer in [${BODY_HEADER_BYTES}, ${MAX_U32}]`,
      );
    }
    this.#maxFrameBytes = value;
  }

  /** Bytes of an incomplete frame held for the next push. */
  get bufferedBytes(): number {
    if (this.#body === null) return this.#prefixFilled;
    return FRAME_PREFIX_BYTES + this.#bodyFilled;
  }

  /**
   * Consumes `chunk` and returns the messages it completes, in order. The chunk is not
   * retained, so the caller may reuse it once this returns.
   *
   * @throws {ProtocolError} If the stream holds an invalid frame, now or in an earlier push.
   */
  push(chunk: Uint8Array): Message[] {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#consume(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) this.#error = error;
      throw error;
    }
  }

  /**
   * While a frame body is being filled, the part of it still missing, so a transport can
   * read large bodies straight into place and then call {@linkcode advance}; null while a
   * length prefix is awaited.
   */
  pendingBody(): Uint8Array | null {
    if (this.#error !== null || this.#body === null) return null;
    return this.#body.subarray(this.#bodyFilled);
  }

  /**
   * Counts `byteCount` bytes written into {@linkcode pendingBody} and returns the message
   * they complete, if any.
   *
   * @throws {RangeError} If no body is pending or `byteCount` exceeds what it misses.
   * @throws {ProtocolError} If the completed body is invalid, now or in an earlier push.
   */
  advance(byteCount: number): Message[] {
    if (this.#error !== null) throw this.#error;
    const body = this.#body;
    if (
      body === null || !Number.isInteger(byteCount) || byteCount < 0 ||
      byteCount > body.byteLength - this.#bodyFilled
    ) {
      throw new RangeError(`Cannot advance frame body by ${byteCount} bytes`);
    }
    this.#bodyFilled += byteCount;
    if (this.#bodyFilled < body.byteLength) return [];
    this.#body = null;
    this.#bodyFilled = 0;
    try {
      return [decodeMessageBody(body)];
    } catch (error) {
      if (error instanceof ProtocolError) this.#error = error;
      throw error;
    }
  }

  #consume(chunk: Uint8Array): Message[] {
    const messages: Message[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#body === null) {
        at = this.#readPrefix(chunk, at);
        continue;
      }
      const body = this.#body;
      const take = Math.min(body.byteLength - this.#bodyFilled, chunk.byteLength - at);
      body.set(chunk.subarray(at, at + take), this.#bodyFilled);
      this.#bodyFilled += take;
      at += take;
      if (this.#bodyFilled === body.byteLength) {
        this.#body = null;
        this.#bodyFilled = 0;
        messages.push(decodeMessageBody(body));
      }
    }
    return messages;
  }

  /**
   * A zeroed buffer for a body at an 8-aligned offset. Bodies of small frames share a slab
   * that is never reused: decoded messages may keep views into it, and the slab is freed
   * once none does.
   */
  #allocateBody(length: number): Uint8Array {
    if (length > SLAB_BODY_MAX_BYTES) return new Uint8Array(length);
    if (this.#slab === null || this.#slabUsed + length > this.#slab.byteLength) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const body = this.#slab.subarray(this.#slabUsed, this.#slabUsed + length);
    this.#slabUsed += length +
      ((TENSOR_ALIGNMENT - (length % TENSOR_ALIGNMENT)) % TENSOR_ALIGNMENT);
    return body;
  }

  /** Reads length-prefix bytes from `chunk` at `at`; returns the new position. */
  #readPrefix(chunk: Uint8Array, at: number): number {
    let length: number;
    if (this.#prefixFilled === 0 && chunk.byteLength - at >= FRAME_PREFIX_BYTES) {
      length = readU32(chunk, at);
      at += FRAME_PREFIX_BYTES;
    } else {
      const take = Math.min(FRAME_PREFIX_BYTES - this.#prefixFilled, chunk.byteLength - at);
      this.#prefix.set(chunk.subarray(at, at + take), this.#prefixFilled);
      this.#prefixFilled += take;
      at += take;
      if (this.#prefixFilled < FRAME_PREFIX_BYTES) return at;
      this.#prefixFilled = 0;
      length = readU32(this.#prefix, 0);
    }
    if (length > this.#maxFrameBytes) {
      throw new ProtocolError(
        `Cannot decode frame: declared length ${length} exceeds ${this.#maxFrameBytes}`,
      );
    }
    if (length < BODY_HEADER_BYTES) {
      throw new ProtocolError(
        `Cannot decode frame: declared length ${length} is shorter than the ${BODY_HEADER_BYTES}-byte header`,
      );
    }
    try {
      this.#body = this.#allocateBody(length);
    } catch (error) {
      // A frame within the limit can still exceed free memory; that ends this stream only.
      if (!(error instanceof RangeError)) throw error;
      throw new ProtocolError(`Cannot decode frame: cannot allocate ${length} bytes for the body`);
    }
    return at;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}
