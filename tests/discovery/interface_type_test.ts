import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  classifyInterface,
  INTERFACE_TYPES,
  interfacePriority,
  parseHardwarePorts,
} from "../../lib/discovery/interface_type.ts";

// `networksetup -listallhardwareports` on a MacBook Pro with a Thunderbolt cable to another Mac.
const MACBOOK_PORTS = `
Hardware Port: Ethernet Adapter (en4)
Device: en4
Ethernet Address: 2e:1b:7a:00:00:01

Hardware Port: Thunderbolt Bridge
Device: bridge0
Ethernet Address: 36:0a:1c:00:00:02

Hardware Port: Wi-Fi
Device: en0
Ethernet Address: 3c:22:fb:00:00:03

Hardware Port: Thunderbolt 1
Device: en1
Ethernet Address: 36:0a:1c:00:00:04

VLAN Configurations
===================
`;

Deno.test("parseHardwarePorts maps each device to its hardware port", () => {
  deepStrictEqual(
    [...parseHardwarePorts(MACBOOK_PORTS)],
    [
      ["en4", "Ethernet Adapter (en4)"],
      ["bridge0", "Thunderbolt Bridge"],
      ["en0", "Wi-Fi"],
      ["en1", "Thunderbolt 1"],
    ],
  );
  deepStrictEqual([...parseHardwarePorts("")], []);
  deepStrictEqual([...parseHardwarePorts("Device: en9\n")], []);
});

Deno.test("classifyInterface on macOS follows the hardware port, so en0 can be Wi-Fi or Ethernet", () => {
  const ports = parseHardwarePorts(MACBOOK_PORTS);
  const mac = (name: string) =>
    classifyInterface(name, { os: "darwin", hardwarePort: ports.get(name) });
  deepStrictEqual(
    ["en0", "bridge0", "en1", "en4"].map(mac),
    ["wifi", "thunderbolt", "thunderbolt", "ethernet"],
  );
  // A Mac mini's en0 is its Ethernet port.
  equal(classifyInterface("en0", { os: "darwin", hardwarePort: "Ethernet" }), "ethernet");
  equal(
    classifyInterface("en5", { os: "darwin", hardwarePort: "Thunderbolt Ethernet" }),
    "ethernet",
  );
  equal(
    classifyInterface("en7", { os: "darwin", hardwarePort: "USB 10/100/1000 LAN" }),
    "ethernet",
  );
});

Deno.test("classifyInterface on macOS without a hardware port goes by name", () => {
  const mac = (name: string) => classifyInterface(name, { os: "darwin" });
  deepStrictEqual(
    ["bridge0", "bridge100", "utun3", "lo0", "awdl0", "en0"].map(mac),
    ["thunderbolt", "container", "vpn", "loopback", "other", "other"],
  );
});

Deno.test("classifyInterface on Linux ranks container bridges, VPNs and tunnels apart", () => {
  const linux = (name: string) => classifyInterface(name, { os: "linux" });
  deepStrictEqual(
    ["eth0", "enp3s0", "eno1", "wlan0", "wlp2s0", "thunderbolt0", "lo"].map(linux),
    ["ethernet", "ethernet", "ethernet", "wifi", "wifi", "thunderbolt", "loopback"],
  );
  deepStrictEqual(
    ["docker0", "br-3f2a9c", "virbr0", "veth12ab", "bridge0", "cni0", "podman1"].map(linux),
    Array(7).fill("container"),
  );
  deepStrictEqual(
    ["tailscale0", "wg0", "tun0", "tap1", "utun2", "zt3jn", "ppp0"].map(linux),
    Array(7).fill("vpn"),
  );
  equal(linux("ib0"), "other");
});

Deno.test("classifyInterface on Linux trusts sysfs over the name", () => {
  equal(classifyInterface("mywifi", { os: "linux", wireless: true }), "wifi");
  equal(classifyInterface("tb-link", { os: "linux", driver: "thunderbolt-net" }), "thunderbolt");
  equal(classifyInterface("eth9", { os: "linux", loopback: true }), "loopback");
});

Deno.test("interfacePriority puts Thunderbolt first and bridges, VPNs and loopback last", () => {
  const order = INTERFACE_TYPES.map(interfacePriority);
  for (let i = 1; i < order.length; i++) ok(order[i - 1] >= order[i], INTERFACE_TYPES[i]);
  ok(interfacePriority("thunderbolt") > interfacePriority("ethernet"));
  ok(interfacePriority("ethernet") > interfacePriority("wifi"));
  ok(interfacePriority("wifi") > interfacePriority("container"));
  ok(interfacePriority("wifi") > interfacePriority("vpn"));
});
