/**
 * What UDP discovery has heard: every announcing node instance with the addresses it was
 * heard on, which instance holds a node id, and which address to dial. Pure: the caller
 * passes the time and which address a node is connected from.
 * @module
 */
import type { Announcement } from "./announcement.ts";
import type { InterfaceType } from "./interface_type.ts";
import type { LocalInterface } from "./local_interfaces.ts";

/** One address an instance was heard on. */
export interface HeardAddress {
  host: string;
  port: number;
  /** The sender's interface and its rank of it. */
  remoteInterface: { name: string; type: InterfaceType };
  remotePriority: number;
  /** This node's interface the address is on. */
  localInterface: { name: string; type: InterfaceType };
  localPriority: number;
  lastSeen: number;
  /** When a connection attempt to this address last failed, if it did. */
  failedAt?: number;
}

/** One process that announced itself (a node id plus its per-start instance). */
export interface HeardInstance {
  nodeId: string;
  instance: string;
  firstSeen: number;
  lastSeen: number;
  addresses: Map<string, HeardAddress>;
}

/** An address to connect to, chosen among everything an instance was heard on. */
export interface AnnouncedTarget {
  id: string;
  host: string;
  port: number;
  /** This node's interface the connection will use. */
  via: { name: string; type: InterfaceType };
}

/** What {@linkcode AnnouncedPeers.record} made of an announcement. */
export type Verdict =
  /** This node's own announcement, heard back. */
  | { kind: "own" }
  /** Another process announces this node's id. `first`: the first time for that process. */
  | { kind: "self_duplicate"; first: boolean }
  /** Another process holds this id (connected, or heard first); this one is refused. */
  | { kind: "duplicate"; holder: string; first: boolean }
  /** Too many instances are remembered already; the announcement was not recorded. */
  | { kind: "full" }
  /**
   * Recorded; the instance holds its id. `replaced`: an older process it took over from;
   * `fresh`: the first announcement heard from this process.
   */
  | { kind: "accepted"; replaced: string | null; fresh: boolean };

/** Settings of {@linkcode AnnouncedPeers}. */
export interface AnnouncedPeersOptions {
  selfId: string;
  selfInstance: string;
  /** An instance not heard for this long is forgotten (`--discovery-timeout`). */
  forgetMs: number;
  /**
   * An instance not heard for this long no longer holds its id against a newcomer, so a
   * node restarted elsewhere is taken at once while a live duplicate keeps being refused.
   * About two broadcast intervals.
   */
  holdMs: number;
  /** Most instances remembered at once. */
  maxInstances?: number;
}

const DEFAULT_MAX_INSTANCES = 256;

/** The node instances heard on the network, by node id. */
export class AnnouncedPeers {
  #options: AnnouncedPeersOptions;
  #byId = new Map<string, Map<string, HeardInstance>>();
  #count = 0;
  /** Processes already reported as duplicates, so each is logged once. */
  #reported = new Set<string>();

  /** Creates an empty registry. */
  constructor(options: AnnouncedPeersOptions) {
    this.#options = options;
  }

  /**
   * Records an announcement heard from `host` on this node's interface `via` at `now`,
   * where `connectedHost` is the address this node is connected to the id from (null if
   * not connected), and says what it means.
   */
  record(
    announcement: Announcement,
    host: string,
    via: LocalInterface,
    now: number,
    connectedHost: string | null,
  ): Verdict {
    const { nodeId, instance } = announcement;
    if (nodeId === this.#options.selfId) {
      if (instance === this.#options.selfInstance) return { kind: "own" };
      return { kind: "self_duplicate", first: this.#firstReport(nodeId, instance) };
    }
    const instances = this.#byId.get(nodeId) ?? new Map<string, HeardInstance>();
    let replaced: string | null = null;
    let entry = instances.get(instance);
    const fresh = entry === undefined;
    if (entry === undefined) {
      // A new process on a machine where an older one of this id was heard is a restart.
      for (const [other, old] of instances) {
        if (old.addresses.has(host)) {
          instances.delete(other);
          this.#count--;
          replaced = host;
        }
      }
      if (this.#count >= (this.#options.maxInstances ?? DEFAULT_MAX_INSTANCES)) {
        return { kind: "full" };
      }
      entry = { nodeId, instance, firstSeen: now, lastSeen: now, addresses: new Map() };
      instances.set(instance, entry);
      this.#byId.set(nodeId, instances);
      this.#count++;
    }
    entry.lastSeen = now;
    entry.addresses.set(host, {
      host,
      port: announcement.nodePort,
      remoteInterface: announcement.interface,
      remotePriority: announcement.priority,
      localInterface: { name: via.name, type: via.type },
      localPriority: via.priority,
      lastSeen: now,
    });
    const holder = this.#holder(nodeId, now, connectedHost);
    if (holder !== undefined && holder !== entry) {
      const holderHost = connectedHost ?? bestAddress(holder, now, this.#options.holdMs)?.host ??
        "an unknown address";
      return { kind: "duplicate", holder: holderHost, first: this.#firstReport(nodeId, instance) };
    }
    return { kind: "accepted", replaced, fresh };
  }

  /**
   * The address to dial for `nodeId`: the best fresh one of the instance holding the id
   * among those `usable` allows (those on a link of this machine that is up, say).
   */
  dialTarget(
    nodeId: string,
    now: number,
    usable: (host: string) => boolean = () => true,
  ): AnnouncedTarget | null {
    const holder = this.#holder(nodeId, now, null);
    const best = holder && bestAddress(holder, now, this.#options.holdMs, usable);
    if (!best) return null;
    return { id: nodeId, host: best.host, port: best.port, via: best.localInterface };
  }

  /**
   * Whether a connection from `remoteHost` claiming `nodeId` may join: a refusal reason
   * when another process holds the id, else null.
   *
   * While the id is connected (or its handshake admitted) from `holderHost`, that process
   * holds it: a connection from another address is refused unless announcements show it is
   * the same process (one instance heard at both addresses). Who is connected is not always
   * known from announcements (it may have dialed before its first one was heard, or come
   * over a tunnel), and a process that is already connected needs no second connection, so
   * an unknown is refused too. Otherwise the process heard first holds the id, and an
   * address discovery never heard (a peers-file peer, a tunnel) is left to the handshake's
   * other rules.
   */
  admit(
    nodeId: string,
    remoteHost: string,
    holderHost: string | null,
    now: number,
  ): string | null {
    const newcomer = this.#ownerOf(nodeId, remoteHost);
    if (holderHost !== null) {
      if (holderHost === remoteHost) return null;
      if (newcomer !== undefined && newcomer === this.#ownerOf(nodeId, holderHost)) return null;
      return takenReason(nodeId, holderHost);
    }
    if (newcomer === undefined) return null;
    const holder = this.#holder(nodeId, now, null);
    if (holder === undefined || holder === newcomer) return null;
    return takenReason(nodeId, bestAddress(holder, now, this.#options.holdMs)?.host);
  }

  /** Notes that connecting to `nodeId` at `host` failed, so another address goes first. */
  failed(nodeId: string, host: string, now: number): void {
    for (const entry of this.#byId.get(nodeId)?.values() ?? []) {
      const heard = entry.addresses.get(host);
      if (heard) heard.failedAt = now;
    }
  }

  /** Forgets the process a closed connection to `nodeId` from `host` went to. */
  disconnected(nodeId: string, host: string): void {
    const owner = this.#ownerOf(nodeId, host);
    if (owner !== undefined) this.#delete(owner);
  }

  /** Forgets instances not heard for `forgetMs`; returns them. */
  expire(now: number): HeardInstance[] {
    const gone: HeardInstance[] = [];
    for (const instances of this.#byId.values()) {
      for (const entry of instances.values()) {
        if (now - entry.lastSeen > this.#options.forgetMs) gone.push(entry);
      }
    }
    for (const entry of gone) this.#delete(entry);
    return gone;
  }

  /** Every remembered instance, by node id then first heard. */
  list(): HeardInstance[] {
    return [...this.#byId.values()]
      .flatMap((instances) => [...instances.values()])
      .sort((a, b) => compare(a.nodeId, b.nodeId) || a.firstSeen - b.firstSeen);
  }

  /**
   * The instance that holds `nodeId`: the one connected from `connectedHost` when known,
   * else the first heard among those heard within `holdMs`. A connection from an address
   * no instance was heard on holds the id for nobody here.
   */
  #holder(nodeId: string, now: number, connectedHost: string | null): HeardInstance | undefined {
    if (connectedHost !== null) return this.#ownerOf(nodeId, connectedHost);
    let holder: HeardInstance | undefined;
    for (const entry of this.#byId.get(nodeId)?.values() ?? []) {
      if (now - entry.lastSeen > this.#options.holdMs) continue;
      if (holder === undefined || entry.firstSeen < holder.firstSeen) holder = entry;
    }
    return holder;
  }

  #ownerOf(nodeId: string, host: string): HeardInstance | undefined {
    let owner: HeardInstance | undefined;
    for (const entry of this.#byId.get(nodeId)?.values() ?? []) {
      const heard = entry.addresses.get(host);
      if (heard && (owner === undefined || heard.lastSeen > owner.addresses.get(host)!.lastSeen)) {
        owner = entry;
      }
    }
    return owner;
  }

  #delete(entry: HeardInstance): void {
    const instances = this.#byId.get(entry.nodeId);
    if (!instances?.delete(entry.instance)) return;
    this.#count--;
    this.#reported.delete(`${entry.nodeId}\n${entry.instance}`);
    if (instances.size === 0) this.#byId.delete(entry.nodeId);
  }

  #firstReport(nodeId: string, instance: string): boolean {
    const key = `${nodeId}\n${instance}`;
    if (this.#reported.has(key)) return false;
    // Bounded like the instances, so spoofed ids cannot grow it without limit.
    if (this.#reported.size >= (this.#options.maxInstances ?? DEFAULT_MAX_INSTANCES)) {
      this.#reported.clear();
    }
    this.#reported.add(key);
    return true;
  }
}

/**
 * The best address heard within `freshMs` that `usable` allows: one that did not just fail
 * to connect goes first; then, since a link is only as good as its worse end, the lower
 * of the two interfaces' priorities ranks first, then the sender's, then ours, then the
 * most recently heard.
 */
export function bestAddress(
  entry: HeardInstance,
  now: number,
  freshMs: number,
  usable: (host: string) => boolean = () => true,
): HeardAddress | undefined {
  let best: HeardAddress | undefined;
  for (const heard of entry.addresses.values()) {
    if (now - heard.lastSeen > freshMs || !usable(heard.host)) continue;
    if (best === undefined || rank(heard, best, now, freshMs) > 0) best = heard;
  }
  return best;
}

function rank(a: HeardAddress, b: HeardAddress, now: number, freshMs: number): number {
  const failedA = a.failedAt !== undefined && now - a.failedAt <= freshMs ? 1 : 0;
  const failedB = b.failedAt !== undefined && now - b.failedAt <= freshMs ? 1 : 0;
  return failedB - failedA ||
    Math.min(a.remotePriority, a.localPriority) -
      Math.min(b.remotePriority, b.localPriority) ||
    a.remotePriority - b.remotePriority ||
    a.localPriority - b.localPriority ||
    a.lastSeen - b.lastSeen;
}

function takenReason(nodeId: string, holderHost: string | undefined): string {
  return `node id ${nodeId} is already used by the node at ${
    holderHost ?? "another address"
  } (two nodes share an id: give each its own --node-id)`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
