import type { Logger } from "../log/logger.ts";
import { formatAddress } from "../discovery/peers_file.ts";
// Frames before the handshake completes are small: a stranger cannot make us allocate much.
import { HANDSHAKE_MAX_FRAME_BYTES } from "../protocol/mod.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { abortableDelay, Backoff } from "./abortable_delay.ts";
import { importSecret } from "./auth.ts";
import { FrameChannel } from "./frame_channel.ts";
import { handshake } from "./handshake.ts";
import { describeError, MAX_QUIET_MS, PeerConnection } from "./peer_connection.ts";
import type { Initiator, LivenessOptions, PeerMessage } from "./peer_connection.ts";

/** An address this node keeps a connection to, from the peers file. */
export interface DialTarget {
  id: string;
  host: string;
  port: number;
}

/** What the node learns from its connections. */
export interface ConnectionEvents {
  /** A peer connected (or its connection was replaced by a better one). */
  onPeerUp(peer: PeerConnection): void;
  /** The peer's only connection closed; `peer` is that connection. */
  onPeerDown(peerId: string, reason: string, peer: PeerConnection): void;
  /** A message for the node arrived. */
  onMessage(peer: PeerConnection, message: PeerMessage): void;
}

/** Settings of the connection manager. */
export interface ConnectionManagerOptions {
  selfId: string;
  capabilities: DeviceCapabilities;
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  secret?: string;
  /** When set, only these node ids are dialed and accepted. */
  nodeIdFilter?: readonly string[];
  validateNodeId: (id: string) => boolean;
  /**
   * Whether a peer that passed the other handshake checks may join: a refusal reason (sent
   * to the peer and logged) or null. `holderHost` is the host of this node's connection to
   * that id, or else of a handshake with that id admitted and still under way, if any. UDP
   * discovery refuses a second process using an id.
   */
  admitPeer?: (peerId: string, remoteHost: string, holderHost: string | null) => string | null;
  logger: Logger;
  events: ConnectionEvents;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  liveness?: Partial<LivenessOptions>;
  maxFrameBytes?: number;
  reconnect?: { initialMs: number; maxMs: number };
}

/**
 * Owns every TCP connection of a node: the listener, one dialer loop per dial target with
 * reconnect and backoff, and at most one authenticated connection per peer, used both ways.
 */
export class ConnectionManager {
  #options: ConnectionManagerOptions;
  #logger: Logger;
  #secretKey: CryptoKey | null;
  #listener: Deno.TcpListener;
  #liveness: LivenessOptions;
  #peers = new Map<string, PeerConnection>();
  #quietDepth = 0;
  /** Why this node may be silent, while it may. */
  #quietReason = "";
  /** The peers told that this node may be silent, to be told when it is back. */
  #quieted: PeerConnection[] = [];
  #dialers = new Map<string, { target: DialTarget; abort: AbortController; done: Promise<void> }>();
  #tasks = new Set<Promise<unknown>>();
  #peerDownWaiters = new Map<string, Set<() => void>>();
  #closing = new AbortController();
  /** Handshakes under way, with the peer id each was admitted with (null: not yet). */
  #handshaking = new Map<FrameChannel, string | null>();
  #acceptLoop: Promise<void>;

  private constructor(
    options: ConnectionManagerOptions,
    listener: Deno.TcpListener,
    secretKey: CryptoKey | null,
  ) {
    this.#options = options;
    this.#logger = options.logger;
    this.#listener = listener;
    this.#secretKey = secretKey;
    this.#liveness = {
      pingIntervalMs: options.liveness?.pingIntervalMs ?? 1000,
      silenceTimeoutMs: options.liveness?.silenceTimeoutMs ?? 4000,
      requestTimeoutMs: options.liveness?.requestTimeoutMs ?? 5000,
    };
    this.#acceptLoop = this.#accept();
  }

  /** Listens on the node port and starts accepting peers. */
  static async start(options: ConnectionManagerOptions): Promise<ConnectionManager> {
    const secretKey = options.secret ? await importSecret(options.secret) : null;
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
    } catch (error) {
      throw new Error(
        `Cannot listen on ${options.hostname}:${options.port}: ${describeError(error)}`,
      );
    }
    const manager = new ConnectionManager(options, listener, secretKey);
    const port = listener.addr.port;
    options.logger.info(`Listening for peers on ${options.hostname}:${port}`);
    if (!secretKey && !isLoopback(options.hostname)) {
      options.logger.warn(
        `Node port ${options.hostname}:${port} is reachable beyond loopback without a cluster secret (EXO_CLUSTER_SECRET or --cluster-secret-file): any host that can reach it can join the cluster`,
      );
    }
    return manager;
  }

  /** The port the listener is bound to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /**
   * Runs `work`, which may block this node's event loop for long (ONNX Runtime creates a
   * session synchronously: seconds for a 1B model's shard). Every peer is told first, so
   * none drops this node for silence meanwhile, and told again when it is over. Nested
   * calls tell the peers once.
   */
  async quietWhile<T>(reason: string, work: () => Promise<T>): Promise<T> {
    if (this.#quietDepth++ === 0) {
      this.#quietReason = reason;
      this.#quieted = this.peers();
      await Promise.all(
        this.#quieted.map((peer) => peer.sayQuiet(MAX_QUIET_MS, reason).catch(() => {})),
      );
    }
    try {
      return await work();
    } finally {
      if (--this.#quietDepth === 0) {
        for (const peer of this.#quieted) peer.sayQuiet(0, "").catch(() => {});
        this.#quieted = [];
        this.#quietReason = "";
      }
    }
  }

  /** The connected peers. */
  peers(): PeerConnection[] {
    return [...this.#peers.values()];
  }

  /** The connection to a peer, if any. */
  peer(id: string): PeerConnection | undefined {
    return this.#peers.get(id);
  }

  /**
   * Sets the addresses to keep connections to: new targets get a dialer loop, removed
   * ones lose theirs (and the connection this node dialed), changed addresses restart.
   */
  setDialTargets(targets: readonly DialTarget[]): void {
    if (this.#closing.signal.aborted) return;
    const filter = this.#options.nodeIdFilter;
    const wanted = new Map<string, DialTarget>();
    for (const target of targets) {
      if (target.id === this.#options.selfId) continue;
      if (filter && !filter.includes(target.id)) {
        this.#logger.info(`Not dialing ${target.id}: not in --node-id-filter`);
        continue;
      }
      wanted.set(target.id, target);
    }
    for (const [id, dialer] of this.#dialers) {
      const next = wanted.get(id);
      if (next && next.host === dialer.target.host && next.port === dialer.target.port) continue;
      dialer.abort.abort();
      this.#dialers.delete(id);
      const peer = this.#peers.get(id);
      if (peer?.initiator === "local") peer.close("removed from the peers file");
    }
    for (const [id, target] of wanted) {
      if (this.#dialers.has(id)) continue;
      const abort = new AbortController();
      const done = this.#dial(target, abort.signal);
      this.#dialers.set(id, { target, abort, done });
      this.#track(done);
    }
  }

  /**
   * Opens one connection to `target` and runs the handshake, expecting `target.id`;
   * resolves once the peer is connected (at once if it already is) and rejects with the
   * reason when it cannot be. No retry: UDP discovery calls again on a later announcement.
   */
  dialOnce(target: DialTarget): Promise<void> {
    if (this.#closing.signal.aborted) {
      return Promise.reject(new Error("Cannot connect: the node is shutting down"));
    }
    const filter = this.#options.nodeIdFilter;
    if (filter && !filter.includes(target.id)) {
      return Promise.reject(new Error(`Cannot connect to ${target.id}: not in --node-id-filter`));
    }
    if (this.#peers.has(target.id)) return Promise.resolve();
    const attempt = (async () => {
      const signal = this.#closing.signal;
      const conn = await this.#connect(target, signal);
      await this.#establish(conn, "local", target.id, signal);
    })();
    this.#track(attempt.catch(() => {}));
    return attempt;
  }

  /** Stops listening and dialing, closes every connection and waits for all tasks. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    for (const dialer of this.#dialers.values()) dialer.abort.abort();
    this.#dialers.clear();
    this.#listener.close();
    for (const peer of this.#peers.values()) peer.close("node shutting down");
    for (const channel of this.#handshaking.keys()) channel.close();
    await this.#acceptLoop;
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#track(
          this.#establish(conn, "remote").catch((error) => {
            this.#logger.warn(
              `Refused connection from ${remoteOf(conn)}: ${describeError(error)}`,
            );
          }),
        );
      }
    } catch (error) {
      if (!this.#closing.signal.aborted) {
        this.#logger.error(`Stopped accepting peers: ${describeError(error)}`);
      }
    }
  }

  async #dial(target: DialTarget, signal: AbortSignal): Promise<void> {
    const reconnect = this.#options.reconnect ?? { initialMs: 200, maxMs: 2000 };
    const backoff = new Backoff(reconnect.initialMs, reconnect.maxMs);
    let failures = 0;
    while (!signal.aborted) {
      if (this.#peers.has(target.id)) {
        await this.#waitForPeerDown(target.id, signal);
        continue;
      }
      try {
        const conn = await this.#connect(target, signal);
        await this.#establish(conn, "local", target.id, signal);
        if (failures > 0) {
          this.#logger.info(`Reached ${target.id} at ${formatAddress(target.host, target.port)}`);
        }
        failures = 0;
        backoff.reset();
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        // The first failure is worth a warning; repeats while a peer is down are noise.
        const log = failures === 1 ? "warn" : "debug";
        this.#logger[log](
          `Cannot connect to ${target.id} at ${formatAddress(target.host, target.port)}: ${
            describeError(error)
          } (retrying)`,
        );
        await abortableDelay(backoff.next(), signal);
      }
    }
  }

  async #connect(target: DialTarget, signal: AbortSignal): Promise<Deno.TcpConn> {
    const timeoutMs = this.#options.connectTimeoutMs ?? 5000;
    const attempt = new AbortController();
    const onAbort = () => attempt.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => attempt.abort(), timeoutMs);
    try {
      return await Deno.connect({
        hostname: target.host,
        port: target.port,
        transport: "tcp",
        signal: attempt.signal,
      });
    } catch (error) {
      if (attempt.signal.aborted && !signal.aborted) {
        throw new Error(`connection timed out after ${timeoutMs} ms`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  async #establish(
    conn: Deno.TcpConn,
    initiator: Initiator,
    expectedPeerId?: string,
    signal?: AbortSignal,
  ): Promise<void> {
    conn.setNoDelay(true);
    const channel = new FrameChannel(conn, HANDSHAKE_MAX_FRAME_BYTES);
    // A handshake in flight ends with its dialer or with the node.
    const abort = () => channel.close();
    signal?.addEventListener("abort", abort, { once: true });
    this.#handshaking.set(channel, null);
    const admitPeer = this.#options.admitPeer;
    const remoteHost = channel.remoteHost;
    // Admitted, a handshake holds its peer id until it ends: another process claiming the
    // id meanwhile is judged against it, so it cannot slip in before the first registers
    // and then be replaced by it, or replace it.
    const admit = (peerId: string) => {
      const refusal = admitPeer?.(peerId, remoteHost, this.#holderHost(peerId)) ?? null;
      if (refusal === null) this.#handshaking.set(channel, peerId);
      return refusal;
    };
    let result;
    try {
      result = await handshake(channel, {
        selfId: this.#options.selfId,
        capabilities: this.#options.capabilities,
        secretKey: this.#secretKey,
        expectedPeerId,
        allowedIds: this.#options.nodeIdFilter ? new Set(this.#options.nodeIdFilter) : undefined,
        timeoutMs: this.#options.handshakeTimeoutMs ?? 5000,
        validateNodeId: this.#options.validateNodeId,
        admit,
      });
    } catch (error) {
      channel.close();
      throw error;
    } finally {
      this.#handshaking.delete(channel);
      signal?.removeEventListener("abort", abort);
    }
    if (this.#closing.signal.aborted || signal?.aborted) {
      channel.close();
      return;
    }
    channel.maxFrameBytes = this.#options.maxFrameBytes ?? 1024 * 1024 * 1024;
    const peer = new PeerConnection(
      channel,
      { id: result.peerId, capabilities: result.capabilities, initiator },
      this.#liveness,
      this.#logger,
      (from, message) => this.#options.events.onMessage(from, message),
    );
    if (!this.#register(peer)) return;
    this.#track(this.#serve(peer));
  }

  /** The host `peerId` is connected from, or else that of an admitted handshake with it. */
  #holderHost(peerId: string): string | null {
    const connected = this.#peers.get(peerId);
    if (connected !== undefined) return connected.remoteHost;
    for (const [channel, claimed] of this.#handshaking) {
      if (claimed === peerId) return channel.remoteHost;
    }
    return null;
  }

  /** Keeps one connection per peer: the one dialed by the node with the smaller id wins. */
  #register(peer: PeerConnection): boolean {
    const existing = this.#peers.get(peer.id);
    if (existing) {
      const preferredDialer = this.#options.selfId < peer.id ? "local" : "remote";
      if (existing.initiator === preferredDialer && peer.initiator !== preferredDialer) {
        peer.close("duplicate connection");
        return false;
      }
      this.#peers.set(peer.id, peer);
      existing.close("replaced by a newer connection");
    } else {
      this.#peers.set(peer.id, peer);
    }
    this.#logger.info(
      `Peer ${peer.id} connected (${
        peer.initiator === "local" ? "dialed" : "accepted"
      } ${peer.address})`,
    );
    if (this.#quietDepth > 0) {
      // Connected between two blocking parts of a load: it must not drop this node either.
      this.#quieted.push(peer);
      peer.sayQuiet(MAX_QUIET_MS, this.#quietReason).catch(() => {});
    }
    this.#options.events.onPeerUp(peer);
    return true;
  }

  async #serve(peer: PeerConnection): Promise<void> {
    const reason = await peer.run();
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    this.#logger.info(`Peer ${peer.id} disconnected: ${reason}`);
    this.#options.events.onPeerDown(peer.id, reason, peer);
    for (const wake of this.#peerDownWaiters.get(peer.id) ?? []) wake();
  }

  #waitForPeerDown(id: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#peerDownWaiters.get(id) ?? new Set();
      this.#peerDownWaiters.set(id, waiters);
      const wake = () => {
        waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  #track(task: Promise<unknown>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}

function remoteOf(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return formatAddress(addr.hostname, addr.port);
}
