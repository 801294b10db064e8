/**
 * What kind of link a network interface is, and how much UDP discovery prefers it.
 * Pure: the facts come from the caller (see `InterfaceProbe`).
 * @module
 */

/** Kinds of network interface, best first. */
export const INTERFACE_TYPES = [
  "thunderbolt",
  "ethernet",
  "wifi",
  "other",
  "container",
  "vpn",
  "loopback",
] as const;

/** A kind of network interface. */
export type InterfaceType = typeof INTERFACE_TYPES[number];

/**
 * How much a link of each type is preferred when a peer is seen on several: Thunderbolt
 * (tens of Gbit/s between two Macs) above Ethernet above Wi-Fi; container bridges, VPNs
 * and tunnels last, since they reach a peer only through another link or not at all.
 */
const PRIORITY: Readonly<Record<InterfaceType, number>> = {
  thunderbolt: 5,
  ethernet: 4,
  wifi: 3,
  other: 2,
  container: 1,
  vpn: 1,
  loopback: 0,
};

/** Highest priority an interface can have. */
export const MAX_INTERFACE_PRIORITY = 5;

/** The priority of a type; higher is better. */
export function interfacePriority(type: InterfaceType): number {
  return PRIORITY[type];
}

/** What is known about an interface beyond its name. */
export interface InterfaceFacts {
  /** `Deno.build.os`. */
  os: string;
  /** macOS: the hardware port `networksetup -listallhardwareports` names ("Wi-Fi"). */
  hardwarePort?: string;
  /** Linux: whether /sys/class/net/NAME/wireless exists. */
  wireless?: boolean;
  /** Linux: the kernel driver of the device ("thunderbolt-net"). */
  driver?: string;
  /** Whether the interface is the loopback interface (its IFF_LOOPBACK flag). */
  loopback?: boolean;
}

const CONTAINER = /^(docker|br-|virbr|veth|cni|flannel|podman|lxcbr|lxdbr|vmnet|vboxnet|kube)/;
const VPN = /^(utun|tun|tap|wg|tailscale|zt|ppp|ipsec|gif|stf|nordlynx|proton|gpd|vpn)/;

/**
 * Classifies an interface by its name and the facts the OS gives.
 *
 * macOS names say little (`en0` is Wi-Fi on a laptop and Ethernet on a Mac mini), so its
 * hardware port decides when known: "Wi-Fi", "Thunderbolt Bridge"/"Thunderbolt 1",
 * "Ethernet"/"... LAN". The Thunderbolt bridge is `bridge0` on macOS, which is why a
 * `bridge` name means Thunderbolt there while on Linux every bridge is taken for a
 * container or VM bridge (docker0, br-*, virbr0); macOS's own `bridge100` and up come
 * from Internet Sharing and virtual machines.
 */
export function classifyInterface(name: string, facts: InterfaceFacts): InterfaceType {
  if (facts.loopback || /^lo\d*$/.test(name)) return "loopback";
  if (facts.os === "darwin") return classifyDarwin(name, facts.hardwarePort);
  if (facts.driver === "thunderbolt-net" || /^thunderbolt/.test(name)) return "thunderbolt";
  if (facts.wireless || /^(wlan|wl|wifi|ath|ra\d)/.test(name)) return "wifi";
  if (CONTAINER.test(name) || /^(bridge|br)\d*$/.test(name)) return "container";
  if (VPN.test(name)) return "vpn";
  if (/^(eth|en|em|eno|ens|enp|enx)/.test(name)) return "ethernet";
  return "other";
}

function classifyDarwin(name: string, port: string | undefined): InterfaceType {
  if (port !== undefined) {
    if (/wi-?fi|airport/i.test(port)) return "wifi";
    if (/thunderbolt/i.test(port) && !/ethernet/i.test(port)) return "thunderbolt";
    if (/ethernet|\blan\b/i.test(port)) return "ethernet";
  }
  const bridge = /^bridge(\d+)$/.exec(name);
  if (bridge) return Number(bridge[1]) < 100 ? "thunderbolt" : "container";
  if (VPN.test(name)) return "vpn";
  if (CONTAINER.test(name)) return "container";
  return "other";
}

/**
 * Reads the output of macOS's `networksetup -listallhardwareports` into a map from device
 * ("en0") to hardware port ("Wi-Fi"). Blocks without both lines are skipped.
 */
export function parseHardwarePorts(text: string): Map<string, string> {
  const ports = new Map<string, string>();
  let port: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const portMatch = /^Hardware Port:\s*(.+?)\s*$/.exec(line);
    if (portMatch) {
      port = portMatch[1];
      continue;
    }
    const deviceMatch = /^Device:\s*(\S+)\s*$/.exec(line);
    if (deviceMatch && port !== undefined) {
      ports.set(deviceMatch[1], port);
      port = undefined;
    }
  }
  return ports;
}
