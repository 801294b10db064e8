import type { Logger } from "../log/logger.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { type Announcement, MAX_ANNOUNCEMENT_BYTES, parseAnnouncement } from "./announcement.ts";
import { Announcer } from "./announcer.ts";
import { type DatagramCounts, emptyCounts } from "./datagram_counts.ts";
import { AnnouncedPeers, type AnnouncedTarget, type HeardInstance } from "./announced_peers.ts";
import { DatagramLimiter, type DatagramLimits } from "./datagram_limiter.ts";
import type { InterfaceType } from "./interface_type.ts";
import { type BroadcastTarget, type LocalInterface, onLinkInterface } from "./local_interfaces.ts";
import { PeerDialer } from "./peer_dialer.ts";

/** Settings of {@linkcode UdpDiscovery}. */
export interface UdpDiscoveryOptions {
  selfId: string;
  /** Random per process start; made here when absent. */
  instance?: string;
  capabilities: DeviceCapabilities;
  /** The TCP port peers connect to. */
  nodePort: number;
  /** The wire protocol version announced; others are not dialed. */
  protocol: number;
  /** UDP port announcements are received on (`--listen-port`). */
  listenPort: number;
  /** UDP port announcements are sent to (`--broadcast-port`). */
  broadcastPort: number;
  /** Address the receiving socket binds; every interface by default. */
  listenHost?: string;
  /** Time between announcements (`--broadcast-interval`). */
  intervalMs: number;
  /** A node not heard for this long is forgotten (`--discovery-timeout`). */
  forgetMs: number;
  /** `--node-host`: a specific address limits announcements to its interface. */
  nodeHost?: string;
  /** `--interface-type-filter`. */
  interfaceTypes?: readonly InterfaceType[];
  /** `--node-id-filter`. */
  nodeIdFilter?: readonly string[];
  /** This machine's interfaces now (see `InterfaceProbe`). */
  interfaces(): Promise<LocalInterface[]>;
  /** The address this node is connected to `nodeId` from, or null when not connected. */
  connectedHost(nodeId: string): string | null;
  /** Opens a connection to an announced node and runs the handshake. */
  dial(target: AnnouncedTarget): Promise<void>;
  logger: Logger;
  limits?: DatagramLimits;
  /** See `PeerDialer`. */
  settleMs?: number;
}

/** What discovery is doing, for `/v1/topology`. */
export interface DiscoveryStatus {
  listenPort: number;
  broadcastPort: number;
  intervalMs: number;
  forgetMs: number;
  instance: string;
  /** Where the last round of announcements went. */
  announcingOn: BroadcastTarget[];
  /** Every node instance heard, with its addresses. */
  heard: HeardInstance[];
  datagrams: DatagramCounts;
}

/** Most distinct (reason, sender) pairs logged at debug level before starting over. */
const MAX_REPORTED = 1024;
/** Least time between two early rounds sent for newly heard processes. */
const ANSWER_INTERVAL_MS = 1000;

/**
 * UDP broadcast discovery: announces this node on every up, non-loopback IPv4 interface
 * (to each subnet's own broadcast address) every interval, listens for other nodes'
 * announcements on all interfaces, and dials each node heard over its best link. A
 * datagram is only ever a hint: the node is added to the cluster by the TCP handshake
 * (cluster secret included) that follows, never by the datagram.
 *
 * Deno's `Deno.listenDatagram` (unstable: `"unstable": ["net"]` in deno.json) sets
 * SO_BROADCAST on every UDP socket it opens, so no other socket library is needed.
 */
export class UdpDiscovery {
  readonly instance: string;
  #options: UdpDiscoveryOptions;
  #logger: Logger;
  #socket: Deno.DatagramConn;
  #announcer: Announcer;
  #limiter: DatagramLimiter;
  #peers: AnnouncedPeers;
  #dialer: PeerDialer;
  #counts: DatagramCounts = emptyCounts();
  #interfaces: LocalInterface[] = [];
  #reported = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | null = null;
  #round: Promise<void> = Promise.resolve();
  /** A round sent early for a newly heard process (see #record); when it was sent. */
  #answer: Promise<void> = Promise.resolve();
  #answeredAt = -Infinity;
  #receiving: Promise<void>;
  #closed = false;

  private constructor(options: UdpDiscoveryOptions, socket: Deno.DatagramConn, instance: string) {
    this.#options = options;
    this.#logger = options.logger;
    this.#socket = socket;
    this.instance = instance;
    this.#announcer = new Announcer({ ...options, instance });
    this.#limiter = new DatagramLimiter(options.limits, performance.now());
    this.#peers = new AnnouncedPeers({
      selfId: options.selfId,
      selfInstance: instance,
      forgetMs: options.forgetMs,
      // Two missed announcements (and a second of slack) end a silent process's claim.
      holdMs: Math.min(options.forgetMs, 2 * options.intervalMs + 1000),
    });
    this.#dialer = new PeerDialer({
      dial: (target) =>
        options.dial(target).catch((error) => {
          this.#peers.failed(target.id, target.host, performance.now());
          throw error;
        }),
      logger: options.logger,
      settleMs: options.settleMs,
    });
    this.#receiving = this.#receive();
  }

  /**
   * Binds the listening socket, sends the first round of announcements and keeps
   * announcing every interval until {@linkcode close}.
   * @throws {Error} when the listen port cannot be bound, naming it.
   */
  static async start(options: UdpDiscoveryOptions): Promise<UdpDiscovery> {
    const hostname = options.listenHost ?? "0.0.0.0";
    let socket: Deno.DatagramConn;
    try {
      // reuseAddress: several nodes on one machine (or exo) may listen on the same port;
      // each gets every broadcast.
      socket = Deno.listenDatagram({
        transport: "udp",
        hostname,
        port: options.listenPort,
        reuseAddress: true,
      });
    } catch (error) {
      throw new Error(
        `Cannot listen for announcements on UDP ${hostname}:${options.listenPort}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    const discovery = new UdpDiscovery(options, socket, options.instance ?? randomInstance());
    options.logger.info(
      `UDP discovery: listening on ${hostname}:${options.listenPort}, announcing every ${
        options.intervalMs / 1000
      } s to port ${options.broadcastPort}`,
    );
    await discovery.#announce();
    discovery.#schedule();
    return discovery;
  }

  /**
   * The refusal reason for a connection from `remoteHost` claiming `nodeId`, or null;
   * `holderHost` is where the id is connected from (or being admitted from), if anywhere.
   */
  admit(nodeId: string, remoteHost: string, holderHost: string | null): string | null {
    return this.#peers.admit(nodeId, remoteHost, holderHost, performance.now());
  }

  /** Tells discovery a connection to `nodeId` came up. */
  peerUp(nodeId: string): void {
    this.#dialer.reset(nodeId);
  }

  /** Tells discovery a connection to `nodeId` from `host` closed. */
  peerDown(nodeId: string, host: string): void {
    this.#peers.disconnected(nodeId, host);
  }

  /** What discovery is doing now. */
  status(): DiscoveryStatus {
    return {
      listenPort: this.#options.listenPort,
      broadcastPort: this.#options.broadcastPort,
      intervalMs: this.#options.intervalMs,
      forgetMs: this.#options.forgetMs,
      instance: this.instance,
      announcingOn: this.#announcer.targets,
      heard: this.#peers.list(),
      datagrams: { ...this.#counts },
    };
  }

  /** Stops announcing, listening and dialing, and waits for everything to end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#round;
    await this.#answer;
    this.#socket.close();
    await this.#receiving;
    this.#announcer.close();
    await this.#dialer.close();
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#wake?.(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  #schedule(): void {
    if (this.#closed) return;
    // ±10% jitter keeps nodes started together from announcing in lockstep.
    const delay = this.#options.intervalMs * (0.9 + Math.random() * 0.2);
    this.#timer = setTimeout(() => {
      this.#round = this.#announce().finally(() => this.#schedule());
    }, delay);
  }

  async #announce(): Promise<void> {
    try {
      this.#interfaces = await this.#options.interfaces();
    } catch (error) {
      this.#report("interfaces", "", `Cannot list network interfaces: ${describe(error)}`, "warn");
    }
    const now = performance.now();
    for (const gone of this.#peers.expire(now)) {
      this.#logger.debug(
        `No announcement from ${gone.nodeId} for ${this.#options.forgetMs / 1000} s: forgotten`,
      );
    }
    await this.#announcer.announce(this.#interfaces);
  }

  async #receive(): Promise<void> {
    // One byte more than the limit: a longer datagram arrives cut to this size.
    const buffer = new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1);
    while (!this.#closed) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await this.#socket.receive(buffer);
      } catch (error) {
        if (this.#closed) return;
        this.#report("receive", "", `Cannot receive announcements: ${describe(error)}`, "warn");
        // Whatever failed may pass (an interface going away); retry, but never in a tight loop.
        await this.#pause(1000);
        continue;
      }
      try {
        this.#handle(data, (from as Deno.NetAddr).hostname);
      } catch (error) {
        // A bug here must cost one datagram, not discovery.
        this.#logger.error(`Cannot handle an announcement: ${describe(error)}`);
      }
    }
  }

  #handle(data: Uint8Array, host: string): void {
    const now = performance.now();
    if (!this.#limiter.allow(host, now)) {
      this.#counts.rate_limited++;
      return;
    }
    const parsed = parseAnnouncement(data);
    if (!parsed.ok) {
      this.#counts[parsed.problem]++;
      this.#report(parsed.problem, host, `Ignoring a datagram from ${host}: ${parsed.detail}`);
      return;
    }
    const announcement = parsed.announcement;
    const { nodeId } = announcement;
    if (nodeId === this.#options.selfId && announcement.instance === this.instance) {
      this.#counts.own++;
      return;
    }
    if (announcement.address !== host) {
      this.#counts.address_mismatch++;
      this.#report(
        "address_mismatch",
        host,
        `Ignoring ${nodeId}'s announcement from ${host}: it claims address ${announcement.address}`,
      );
      return;
    }
    const via = onLinkInterface(this.#interfaces, host);
    if (via === undefined) {
      this.#counts.off_link++;
      this.#report("off_link", host, `Ignoring ${nodeId}'s announcement: ${host} is on no link`);
      return;
    }
    if (announcement.protocol !== this.#options.protocol) {
      this.#counts.protocol_mismatch++;
      this.#report(
        "protocol",
        `${nodeId}@${host}`,
        `Ignoring node ${nodeId} at ${host}: it speaks wire protocol ${announcement.protocol}, this node ${this.#options.protocol} (run the same exo-node version on every node)`,
        "warn",
      );
      return;
    }
    const filter = this.#options.nodeIdFilter;
    if (filter && !filter.includes(nodeId)) {
      this.#counts.filtered++;
      this.#report("filtered", nodeId, `Ignoring node ${nodeId}: not in --node-id-filter`, "info");
      return;
    }
    this.#record(announcement, host, via, now);
  }

  #record(announcement: Announcement, host: string, via: LocalInterface, now: number): void {
    const { nodeId } = announcement;
    const connectedHost = this.#options.connectedHost(nodeId);
    const verdict = this.#peers.record(announcement, host, via, now, connectedHost);
    switch (verdict.kind) {
      case "own":
        this.#counts.own++;
        return;
      case "self_duplicate":
        this.#counts.duplicate_id++;
        if (verdict.first) {
          this.#logger.warn(
            `Another node announces this node's id ${nodeId} from ${host} (two nodes share an id: give each its own --node-id)`,
          );
        }
        return;
      case "duplicate":
        this.#counts.duplicate_id++;
        if (verdict.first) {
          this.#logger.warn(
            `Refusing node ${nodeId} at ${host}: node id ${nodeId} is already used by the node at ${verdict.holder} (two nodes share an id: give each its own --node-id)`,
          );
        }
        return;
      case "full":
        this.#counts.too_many_peers++;
        this.#report("full", host, `Ignoring node ${nodeId} at ${host}: too many nodes heard`);
        return;
      case "accepted":
        this.#counts.accepted++;
        if (verdict.replaced !== null) {
          this.#logger.info(`Node ${nodeId} at ${host} restarted (new process)`);
        }
        if (verdict.fresh) this.#answerNewcomer(now);
        if (connectedHost === null) {
          this.#dialer.request(nodeId, () => {
            if (this.#options.connectedHost(nodeId) !== null) return null;
            // Only over links that are up now: a cable just pulled is no way to the node.
            return this.#peers.dialTarget(
              nodeId,
              performance.now(),
              (target) => onLinkInterface(this.#interfaces, target) !== undefined,
            );
          });
        }
        return;
      default: {
        const unreachable: never = verdict;
        throw new Error(`Unhandled verdict ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /**
   * Announces at once on every interface when a process is heard for the first time. A
   * node that starts listening in the middle of another's round hears only that round's
   * later datagrams (say, a Docker bridge's, not the Ethernet's), and would dial the only
   * link it knows before the next round, 2.5 s later; answered now, the whole round reaches
   * it within its dialer's settling wait. At most once a second, whatever is heard.
   */
  #answerNewcomer(now: number): void {
    if (this.#closed || now - this.#answeredAt < ANSWER_INTERVAL_MS) return;
    this.#answeredAt = now;
    this.#answer = this.#answer.then(() => this.#announcer.announce(this.#interfaces))
      .catch((error) => this.#logger.debug(`Cannot answer a new node: ${describe(error)}`));
  }

  /** Logs a problem once per (kind, subject); debug level unless told otherwise. */
  #report(
    kind: string,
    subject: string,
    message: string,
    level: "debug" | "info" | "warn" = "debug",
  ): void {
    const key = `${kind}\n${subject}`;
    if (this.#reported.has(key)) return;
    if (this.#reported.size >= MAX_REPORTED) this.#reported.clear();
    this.#reported.add(key);
    this.#logger[level](message);
  }
}

function randomInstance(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
