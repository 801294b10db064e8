import { ProtocolError } from "../protocol/mod.ts";
import type { Message, TopologyReplyMessage } from "../protocol/mod.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import type { Logger } from "../log/logger.ts";
import type { FrameChannel } from "./frame_channel.ts";

/** Messages a peer connection hands to the node; the transport answers the rest itself. */
export type PeerMessage = Exclude<
  Message,
  { type: "hello" | "auth" | "refuse" | "ping" | "pong" | "topology_reply" | "quiet" }
>;

/**
 * The longest silence a peer's `quiet` message buys: a peer that vanishes while quiet (its
 * machine off the network; a process that dies closes its socket at once) is dropped after
 * at most this long.
 */
export const MAX_QUIET_MS = 10 * 60_000;

/** Liveness settings of a connection. */
export interface LivenessOptions {
  /** How often to ping. */
  pingIntervalMs: number;
  /** A peer silent for this long is disconnected. */
  silenceTimeoutMs: number;
  /** How long a request waits for its reply. */
  requestTimeoutMs: number;
}

/** Who opened a connection: this node ("local") or the peer ("remote"). */
export type Initiator = "local" | "remote";

interface PendingRequest {
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * An authenticated connection to one peer, used in both directions. It answers pings,
 * matches replies to requests by id, and closes itself when the peer falls silent.
 */
export class PeerConnection {
  /** The peer's node id, proven by the handshake. */
  readonly id: string;
  /** The capabilities the peer reported in its hello. */
  readonly capabilities: DeviceCapabilities;
  /** Who dialed this connection. */
  readonly initiator: Initiator;
  /** The peer's address as seen on the socket ("host:port"). */
  readonly address: string;
  /** The peer's host as seen on the socket (an address, without the port). */
  readonly remoteHost: string;
  /** This node's address the connection uses, which names the interface it goes over. */
  readonly localHost: string;
  #channel: FrameChannel;
  #liveness: LivenessOptions;
  #logger: Logger;
  #onMessage: (peer: PeerConnection, message: PeerMessage) => void;
  #pending = new Map<number, PendingRequest>();
  #nextRequestId = 1;
  /**
   * Silence is counted from the last bytes the channel read, or from this when later: the
   * start, and the end of this node's own quiet (what the peer sent meanwhile waits unread).
   */
  #silenceFrom = performance.now();
  #closeReason: string | null = null;
  #rttMs: number | null = null;
  /** Until when the peer said it may be silent (performance.now() ms; 0: not quiet). */
  #peerQuietUntil = 0;
  /** Whether this node said it may be silent: it does not judge the peer's silence either. */
  #selfQuiet = false;

  /** Wraps a channel that finished its handshake; call `run` to start serving it. */
  constructor(
    channel: FrameChannel,
    peer: { id: string; capabilities: DeviceCapabilities; initiator: Initiator },
    liveness: LivenessOptions,
    logger: Logger,
    onMessage: (peer: PeerConnection, message: PeerMessage) => void,
  ) {
    this.id = peer.id;
    this.capabilities = peer.capabilities;
    this.initiator = peer.initiator;
    this.address = channel.remoteAddress;
    this.remoteHost = channel.remoteHost;
    this.localHost = channel.localHost;
    this.#channel = channel;
    this.#liveness = liveness;
    this.#logger = logger;
    this.#onMessage = onMessage;
  }

  /** The last measured ping round trip in ms, or null before the first pong. */
  get rttMs(): number | null {
    return this.#rttMs;
  }

  /** Why the connection closed, or null while it is open. */
  get closeReason(): string | null {
    return this.#closeReason;
  }

  /** Sends a message; rejects when the connection is closed or breaks. */
  send(message: Message): Promise<void> {
    if (this.#closeReason !== null) {
      return Promise.reject(
        new Error(`Cannot send to ${this.id}: connection closed (${this.#closeReason})`),
      );
    }
    return this.#channel.send(message);
  }

  /** Asks the peer for its view of the cluster. */
  async requestTopology(): Promise<TopologyReplyMessage> {
    const reply = await this.#request((id) => ({ type: "topology_request", id }));
    if (reply.type !== "topology_reply") throw new Error(`Unexpected reply ${reply.type}`);
    return reply;
  }

  /** Pings the peer and returns the round trip in ms. */
  async ping(): Promise<number> {
    const reply = await this.#request((id) => ({ type: "ping", id, sentAt: performance.now() }));
    if (reply.type !== "pong") throw new Error(`Unexpected reply ${reply.type}`);
    return performance.now() - reply.sentAt;
  }

  /**
   * Tells the peer that this node may fall silent for up to `quietMs` (its event loop about
   * to block), or with 0 that it is back. While quiet, this side does not judge the peer's
   * silence either: its own timers are what stalls. Resolves once the frame is written.
   */
  async sayQuiet(quietMs: number, reason: string): Promise<void> {
    this.#selfQuiet = quietMs > 0;
    if (!this.#selfQuiet) this.#silenceFrom = performance.now();
    await this.send({ type: "quiet", quietMs, reason });
  }

  /** Closes the connection with a reason; `run` then returns. Idempotent. */
  close(reason: string): void {
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#channel.close();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`Connection to ${this.id} closed: ${reason}`));
      this.#pending.delete(id);
    }
  }

  /**
   * Serves the connection until it closes, then returns the reason. Pings on an interval
   * and closes the connection when nothing arrives within the silence timeout.
   */
  async run(): Promise<string> {
    const heartbeat = setInterval(() => this.#heartbeat(), this.#liveness.pingIntervalMs);
    try {
      while (this.#closeReason === null) {
        const message = await this.#channel.receive();
        if (message === null) {
          this.close("closed by peer");
          break;
        }
        this.#dispatch(message);
      }
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.#logger.warn(`Closing connection to ${this.id}: ${error.message}`);
      }
      this.close(this.#closeReason ?? describeError(error));
    } finally {
      clearInterval(heartbeat);
    }
    return this.#closeReason ?? "closed";
  }

  #dispatch(message: Message): void {
    switch (message.type) {
      case "ping":
        this.send({ type: "pong", id: message.id, sentAt: message.sentAt }).catch(() => {});
        return;
      case "pong":
      case "topology_reply":
        this.#settle(message.id, message);
        return;
      case "quiet":
        this.#peerQuietUntil = message.quietMs === 0
          ? 0
          : performance.now() + Math.min(message.quietMs, MAX_QUIET_MS);
        if (message.quietMs > 0) {
          this.#logger.info(
            `Peer ${this.id} may be silent for up to ${
              Math.round(Math.min(message.quietMs, MAX_QUIET_MS) / 1000)
            } s: ${message.reason}`,
          );
        }
        return;
      case "hello":
      case "auth":
      case "refuse":
        this.#logger.warn(
          `Closing connection to ${this.id}: unexpected ${message.type} after handshake`,
        );
        this.close(`protocol violation: ${message.type} after handshake`);
        return;
      case "topology_request":
      case "prompt":
      case "tensor":
      case "token":
      case "status":
      case "error":
      case "cancel":
        this.#onMessage(this, message);
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #heartbeat(): void {
    if (this.#selfQuiet) return;
    const now = performance.now();
    // A quiet peer is blocked between frames (it said so once its earlier frames were
    // written): bytes of an unfinished frame mean it is writing, so a stall there is judged
    // as usual, or a stream cut mid-frame would hold the connection for the whole quiet.
    const quietUntil = this.#channel.midFrame ? 0 : this.#peerQuietUntil;
    if (now < quietUntil) return;
    // Bytes of a frame still arriving count too (a big tensor on a slow link).
    const heardAt = Math.max(this.#silenceFrom, this.#channel.lastReadAt, quietUntil);
    const silentMs = now - heardAt;
    if (silentMs > this.#liveness.silenceTimeoutMs) {
      this.#logger.warn(`Peer ${this.id} silent for ${Math.round(silentMs)} ms, disconnecting`);
      this.close(`no answer for ${Math.round(silentMs)} ms`);
      return;
    }
    this.ping().then((rtt) => this.#rttMs = rtt, () => {});
  }

  #request(build: (id: number) => Message): Promise<Message> {
    const id = this.#nextRequestId;
    this.#nextRequestId = (this.#nextRequestId % 0xffff_fffe) + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new Error(`Request to ${this.id} timed out after ${this.#liveness.requestTimeoutMs} ms`),
        );
      }, this.#liveness.requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.send(build(id)).catch((error) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  #settle(id: number, message: Message): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    pending.resolve(message);
  }
}

/** Turns anything thrown into a one-line reason. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
