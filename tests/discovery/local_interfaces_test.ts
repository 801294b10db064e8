import { deepStrictEqual, equal } from "node:assert/strict";
import {
  broadcastTargets,
  interfaceWithAddress,
  type LocalInterface,
  onLinkInterface,
  toLocalInterfaces,
} from "../../lib/discovery/local_interfaces.ts";
import { interfacePriority, type InterfaceType } from "../../lib/discovery/interface_type.ts";

function iface(
  name: string,
  type: InterfaceType,
  cidr: string,
  up = true,
): LocalInterface {
  const [address, bits] = cidr.split("/");
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
  const netmask = [24, 16, 8, 0].map((shift) => (mask >>> shift) & 255).join(".");
  return { name, address, netmask, type, priority: interfacePriority(type), up };
}

// A MacBook on Wi-Fi, cabled to another Mac over Thunderbolt, with Docker and Tailscale.
const LAPTOP = [
  iface("lo0", "loopback", "127.0.0.1/8"),
  iface("en0", "wifi", "192.168.1.20/24"),
  iface("bridge0", "thunderbolt", "169.254.17.9/16"),
  iface("docker0", "container", "172.17.0.1/16"),
  iface("utun4", "vpn", "100.101.102.103/32"),
  iface("en5", "ethernet", "10.0.0.2/30", false),
];

Deno.test("broadcastTargets uses every up, non-loopback interface's own broadcast, best first", () => {
  deepStrictEqual(
    broadcastTargets(LAPTOP).map((t) => [t.name, t.type, t.address, t.broadcast]),
    [
      ["bridge0", "thunderbolt", "169.254.17.9", "169.254.255.255"],
      ["en0", "wifi", "192.168.1.20", "192.168.1.255"],
      ["docker0", "container", "172.17.0.1", "172.17.255.255"],
    ],
  );
});

Deno.test("broadcastTargets skips point-to-point, down and loopback interfaces", () => {
  const names = broadcastTargets(LAPTOP).map((t) => t.name);
  for (const skipped of ["utun4", "en5", "lo0"]) equal(names.includes(skipped), false, skipped);
});

Deno.test("broadcastTargets keeps only the interface of a specific --node-host", () => {
  deepStrictEqual(
    broadcastTargets(LAPTOP, { nodeHost: "192.168.1.20" }).map((t) => t.name),
    ["en0"],
  );
  deepStrictEqual(broadcastTargets(LAPTOP, { nodeHost: "127.0.0.1" }), []);
  equal(broadcastTargets(LAPTOP, { nodeHost: "0.0.0.0" }).length, 3);
});

Deno.test("broadcastTargets keeps only the types of --interface-type-filter", () => {
  deepStrictEqual(
    broadcastTargets(LAPTOP, { types: ["thunderbolt", "ethernet"] }).map((t) => t.name),
    ["bridge0"],
  );
});

Deno.test("broadcastTargets sends once per address and broadcast", () => {
  const twice = [iface("en0", "wifi", "192.168.1.20/24"), iface("en0", "wifi", "192.168.1.20/24")];
  equal(broadcastTargets(twice).length, 1);
});

Deno.test("onLinkInterface finds the link an address is on, the best when several are", () => {
  equal(onLinkInterface(LAPTOP, "192.168.1.77")?.name, "en0");
  equal(onLinkInterface(LAPTOP, "169.254.3.3")?.name, "bridge0");
  equal(onLinkInterface(LAPTOP, "8.8.8.8"), undefined);
  equal(onLinkInterface(LAPTOP, "127.0.0.1"), undefined);
  // Down links are no way to a peer.
  equal(onLinkInterface(LAPTOP, "10.0.0.1"), undefined);
  const both = [
    iface("docker0", "container", "10.1.0.1/16"),
    iface("eth1", "ethernet", "10.1.0.9/24"),
  ];
  equal(onLinkInterface(both, "10.1.0.5")?.name, "eth1");
});

Deno.test("interfaceWithAddress names the interface of a connection's local address", () => {
  equal(interfaceWithAddress(LAPTOP, "169.254.17.9")?.name, "bridge0");
  equal(interfaceWithAddress(LAPTOP, "127.0.0.1")?.type, "loopback");
  equal(interfaceWithAddress(LAPTOP, "::ffff:192.168.1.20")?.name, "en0");
  equal(interfaceWithAddress(LAPTOP, "192.168.1.21"), undefined);
});

Deno.test("toLocalInterfaces keeps IPv4 entries and classifies them with the OS's facts", () => {
  const infos: Deno.NetworkInterfaceInfo[] = [
    {
      family: "IPv4",
      name: "lo",
      address: "127.0.0.1",
      netmask: "255.0.0.0",
      scopeid: null,
      cidr: "127.0.0.1/8",
      mac: "",
    },
    {
      family: "IPv6",
      name: "eth0",
      address: "fe80::1",
      netmask: "ffff:ffff:ffff:ffff::",
      scopeid: 2,
      cidr: "fe80::1/64",
      mac: "",
    },
    {
      family: "IPv4",
      name: "eth0",
      address: "10.1.0.4",
      netmask: "255.255.255.0",
      scopeid: null,
      cidr: "10.1.0.4/24",
      mac: "",
    },
    {
      family: "IPv4",
      name: "radio",
      address: "10.2.0.4",
      netmask: "255.255.255.0",
      scopeid: null,
      cidr: "10.2.0.4/24",
      mac: "",
    },
  ];
  const facts = (name: string) => ({ up: name !== "radio", wireless: name === "radio" });
  deepStrictEqual(
    toLocalInterfaces(infos, "linux", facts).map((i) => [i.name, i.type, i.priority, i.up]),
    [["lo", "loopback", 0, true], ["eth0", "ethernet", 4, true], ["radio", "wifi", 3, false]],
  );
});
