/**
 * This machine's IPv4 interfaces as discovery sees them, and the choices made from them:
 * where to broadcast, which interface a peer's address is reached over. Pure.
 * @module
 */
import {
  classifyInterface,
  type InterfaceFacts,
  interfacePriority,
  type InterfaceType,
} from "./interface_type.ts";
import { broadcastAddress, inSubnet, isLoopbackIpv4 } from "./ipv4.ts";

/** One IPv4 address of an interface, classified. */
export interface LocalInterface {
  /** The OS's name: "en0", "eth1", "bridge0". */
  name: string;
  address: string;
  netmask: string;
  type: InterfaceType;
  /** See `interfacePriority`; higher is better. */
  priority: number;
  /** Administratively up and with a link (Linux: IFF_UP, and operstate up or unknown). */
  up: boolean;
}

/** Where one announcement is sent. */
export interface BroadcastTarget {
  name: string;
  type: InterfaceType;
  priority: number;
  /** The interface's own address, which the announcement claims as the sender. */
  address: string;
  /** The subnet's directed broadcast address. */
  broadcast: string;
}

/** What the OS says about an interface name besides its addresses. */
export type InterfaceFactsOf = (name: string) => Omit<InterfaceFacts, "os"> & { up: boolean };

/**
 * Turns `Deno.networkInterfaces()` into classified IPv4 interfaces (IPv6 entries are
 * dropped: discovery is IPv4 broadcast). `factsOf` supplies the up state and type hints.
 */
export function toLocalInterfaces(
  infos: readonly Deno.NetworkInterfaceInfo[],
  os: string,
  factsOf: InterfaceFactsOf,
): LocalInterface[] {
  const result: LocalInterface[] = [];
  for (const info of infos) {
    if (info.family !== "IPv4") continue;
    const facts = factsOf(info.name);
    const type = classifyInterface(info.name, {
      ...facts,
      os,
      loopback: facts.loopback || isLoopbackIpv4(info.address),
    });
    result.push({
      name: info.name,
      address: info.address,
      netmask: info.netmask,
      type,
      priority: interfacePriority(type),
      up: facts.up,
    });
  }
  return result;
}

/** Which interfaces announcements go out on. */
export interface BroadcastChoice {
  /**
   * `--node-host`: a wildcard (0.0.0.0, ::) allows every interface; a specific address
   * allows only the interface that has it, since peers could not connect over the others.
   */
  nodeHost?: string;
  /** `--interface-type-filter`: only interfaces of these types. */
  types?: readonly InterfaceType[];
}

/**
 * The broadcast targets: every up, non-loopback interface with a broadcast address (not a
 * point-to-point link), allowed by `choice`, best first (then by name). The broadcast
 * address comes from each interface's own netmask.
 */
export function broadcastTargets(
  interfaces: readonly LocalInterface[],
  choice: BroadcastChoice = {},
): BroadcastTarget[] {
  const wildcard = choice.nodeHost === undefined || isWildcard(choice.nodeHost);
  const targets: BroadcastTarget[] = [];
  const seen = new Set<string>();
  for (const iface of interfaces) {
    if (!iface.up || iface.type === "loopback") continue;
    if (!wildcard && iface.address !== choice.nodeHost) continue;
    if (choice.types && !choice.types.includes(iface.type)) continue;
    const broadcast = broadcastAddress(iface.address, iface.netmask);
    if (broadcast === null) continue;
    const key = `${iface.address}>${broadcast}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const { name, type, priority, address } = iface;
    targets.push({ name, type, priority, address, broadcast });
  }
  return targets.sort((a, b) => b.priority - a.priority || compare(a.name, b.name));
}

/** Whether a listen address means every interface. */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]" || host === "";
}

/**
 * The up, non-loopback interface whose subnet holds `host` (the best one when several
 * do), or undefined when `host` is not on any link of this machine.
 */
export function onLinkInterface(
  interfaces: readonly LocalInterface[],
  host: string,
): LocalInterface | undefined {
  let best: LocalInterface | undefined;
  for (const iface of interfaces) {
    if (!iface.up || iface.type === "loopback") continue;
    if (!inSubnet(host, iface.address, iface.netmask)) continue;
    if (best === undefined || iface.priority > best.priority) best = iface;
  }
  return best;
}

/** The interface that owns the local address `host` (a connection's local end), if any. */
export function interfaceWithAddress(
  interfaces: readonly LocalInterface[],
  host: string,
): LocalInterface | undefined {
  const plain = host.startsWith("::ffff:") ? host.slice(7) : host;
  return interfaces.find((iface) => iface.address === plain);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
