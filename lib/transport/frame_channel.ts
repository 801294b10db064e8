import { formatAddress } from "../discovery/peers_file.ts";
import { encodeMessageParts, FrameDecoder } from "../protocol/mod.ts";
import type { Message } from "../protocol/mod.ts";

const READ_BUFFER_BYTES = 64 * 1024;
/** Small frames sent together are joined in a reused buffer of this size. */
const SCRATCH_BYTES = 64 * 1024;
/** A part this large (a big tensor's data) is written from its own buffer, not copied. */
const DIRECT_WRITE_MIN_BYTES = 64 * 1024;
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
  /** Frames sent since the last write began. */
  #outbox: Outgoing[] = [];
  /** Whether a flush is scheduled or writing; sends meanwhile join its next round. */
  #flushing = false;
  /** The write error that broke the connection; every later send fails with it. */
  #failure: Error | null = null;
  /** Joins a round's small frames into one write. */
  #scratch = new Uint8Array(SCRATCH_BYTES);
  #closed = false;
  #lastReadAt = performance.now();

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

  /** The remote host (an address, without the port). */
  get remoteHost(): string {
    return (this.#conn.remoteAddr as Deno.NetAddr).hostname;
  }

  /** The local address the connection uses, without the port. */
  get localHost(): string {
    return (this.#conn.localAddr as Deno.NetAddr).hostname;
  }

  /** When bytes last arrived (performance.now() ms), whole frames or not. */
  get lastReadAt(): number {
    return this.#lastReadAt;
  }

  /** Whether bytes of an unfinished frame wait for the rest. */
  get midFrame(): boolean {
    return this.#decoder.bufferedBytes > 0;
  }

  /** Whether `close` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Encodes one message and queues it; it is written after every earlier send. Frames sent
   * in one synchronous run (a batch's outputs, say) leave in one write, so the peer reads
   * them together. Rejects when the connection fails; later sends then reject too.
   * @throws {TypeError|RangeError} at once when the message cannot be encoded.
   */
  send(message: Message): Promise<void> {
    const parts = encodeMessageParts(message);
    return new Promise((resolve, reject) => {
      this.#outbox.push({ parts, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => this.#flush());
      }
    });
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
        this.#lastReadAt = performance.now();
        for (const message of this.#decoder.advance(n)) this.#pending.push(message);
        continue;
      }
      const n = await this.#conn.read(this.#readBuffer);
      if (n === null) return null;
      this.#lastReadAt = performance.now();
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

  /** Writes queued frames until none are left, each round's frames as few writes as fit. */
  async #flush(): Promise<void> {
    while (this.#outbox.length > 0) {
      const round = this.#outbox;
      this.#outbox = [];
      try {
        if (this.#failure !== null) throw this.#failure;
        if (this.#closed) throw new Deno.errors.BrokenPipe("Cannot send frame: connection closed");
        for (const chunk of this.#gather(round)) {
          let offset = 0;
          while (offset < chunk.length) offset += await this.#conn.write(chunk.subarray(offset));
        }
        for (const sent of round) sent.resolve();
      } catch (error) {
        this.#failure ??= error as Error;
        for (const sent of round) sent.reject(error);
      }
    }
    this.#flushing = false;
  }

  /**
   * The round's frames as buffers to write in order: small parts copied together (into the
   * scratch buffer when they fit), large tensor data written from the caller's buffer.
   */
  #gather(round: Outgoing[]): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let scratchFree = true;
    const flushPending = () => {
      if (pending.length === 0) return;
      if (pending.length === 1) {
        chunks.push(pending[0]);
      } else {
        const useScratch = scratchFree && pendingBytes <= SCRATCH_BYTES;
        if (useScratch) scratchFree = false;
        const joined = useScratch
          ? this.#scratch.subarray(0, pendingBytes)
          : new Uint8Array(pendingBytes);
        let at = 0;
        for (const part of pending) {
          joined.set(part, at);
          at += part.length;
        }
        chunks.push(joined);
      }
      pending = [];
      pendingBytes = 0;
    };
    for (const { parts } of round) {
      for (const part of parts) {
        if (part.length >= DIRECT_WRITE_MIN_BYTES) {
          flushPending();
          chunks.push(part);
        } else {
          pending.push(part);
          pendingBytes += part.length;
        }
      }
    }
    flushPending();
    return chunks;
  }
}

/** A frame waiting to be written, and its sender's promise. */
interface Outgoing {
  parts: Uint8Array[];
  resolve: () => void;
  reject: (error: unknown) => void;
}
