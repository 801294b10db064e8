import type { Logger } from "../log/logger.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { type Announcement, encodeAnnouncement } from "./announcement.ts";
import type { InterfaceType } from "./interface_type.ts";
import {
  type BroadcastTarget,
  broadcastTargets,
  isWildcard,
  type LocalInterface,
} from "./local_interfaces.ts";

/** Settings of an {@linkcode Announcer}. */
export interface AnnouncerOptions {
  selfId: string;
  instance: string;
  capabilities: DeviceCapabilities;
  nodePort: number;
  protocol: number;
  /** UDP port the announcements go to. */
  broadcastPort: number;
  /** `--node-host`: a specific address limits announcements to its interface. */
  nodeHost?: string;
  /** `--interface-type-filter`. */
  interfaceTypes?: readonly InterfaceType[];
  logger: Logger;
}

/**
 * Sends one round of announcements at a time: one datagram per broadcast target, from a
 * socket bound to that interface's address (so it leaves with the source address it
 * claims, whatever the routing table would pick). Logs where it announces when that
 * changes, and each interface's failure once until it works again.
 */
export class Announcer {
  #options: AnnouncerOptions;
  #senders = new Map<string, Deno.DatagramConn>();
  #targets: BroadcastTarget[] = [];
  #targetsText: string | null = null;
  #failing = new Set<string>();

  /** Creates an announcer; nothing is sent before {@linkcode announce}. */
  constructor(options: AnnouncerOptions) {
    this.#options = options;
  }

  /** Where the last round went, best interface first. */
  get targets(): BroadcastTarget[] {
    return [...this.#targets];
  }

  /** Announces on every target among `interfaces`; never throws. */
  async announce(interfaces: readonly LocalInterface[]): Promise<void> {
    this.#targets = broadcastTargets(interfaces, {
      nodeHost: this.#options.nodeHost,
      types: this.#options.interfaceTypes,
    });
    this.#logTargets();
    const used = new Set<string>();
    for (const target of this.#targets) {
      used.add(target.address);
      await this.#send(target);
    }
    for (const [address, sender] of this.#senders) {
      if (used.has(address)) continue;
      sender.close();
      this.#senders.delete(address);
    }
  }

  /** Closes every socket; call once no round runs. */
  close(): void {
    for (const sender of this.#senders.values()) sender.close();
    this.#senders.clear();
  }

  async #send(target: BroadcastTarget): Promise<void> {
    const options = this.#options;
    const announcement: Announcement = {
      nodeId: options.selfId,
      instance: options.instance,
      protocol: options.protocol,
      nodePort: options.nodePort,
      address: target.address,
      interface: { name: target.name, type: target.type },
      priority: target.priority,
      capabilities: options.capabilities,
    };
    try {
      let sender = this.#senders.get(target.address);
      if (sender === undefined) {
        sender = Deno.listenDatagram({ transport: "udp", hostname: target.address, port: 0 });
        this.#senders.set(target.address, sender);
      }
      await sender.send(encodeAnnouncement(announcement), {
        transport: "udp",
        hostname: target.broadcast,
        port: options.broadcastPort,
      });
      this.#failing.delete(target.name);
    } catch (error) {
      this.#senders.get(target.address)?.close();
      this.#senders.delete(target.address);
      if (this.#failing.has(target.name)) return;
      this.#failing.add(target.name);
      const hint = Deno.build.os === "darwin"
        ? " (on macOS, allow exo-node under System Settings > Privacy & Security > Local Network)"
        : "";
      options.logger.warn(
        `Cannot announce on ${target.name} to ${target.broadcast}:${options.broadcastPort}: ${
          error instanceof Error ? error.message : String(error)
        }${hint}`,
      );
    }
  }

  #logTargets(): void {
    const text = this.#targets
      .map((t) => `${t.name} (${t.type}, ${t.address} -> ${t.broadcast})`)
      .join(", ");
    if (text === this.#targetsText) return;
    this.#targetsText = text;
    const { nodeHost, interfaceTypes, logger } = this.#options;
    if (text !== "") {
      logger.info(`Announcing on ${text}`);
      return;
    }
    logger.warn(
      "No interface to announce on: no up, non-loopback IPv4 interface with a broadcast address" +
        (nodeHost && !isWildcard(nodeHost) ? ` matches --node-host ${nodeHost}` : "") +
        (interfaceTypes ? " and --interface-type-filter" : ""),
    );
  }
}
