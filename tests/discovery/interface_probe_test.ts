import { deepStrictEqual } from "node:assert/strict";
import { InterfaceProbe, type InterfaceSources } from "../../lib/discovery/interface_probe.ts";

function info(name: string, address: string, netmask = "255.255.255.0"): Deno.NetworkInterfaceInfo {
  return { family: "IPv4", name, address, netmask, scopeid: null, cidr: `${address}/24`, mac: "" };
}

function sources(
  os: string,
  files: Record<string, string>,
  commands: Record<string, string> = {},
): InterfaceSources {
  return {
    os,
    networkInterfaces: () => [
      info("lo", "127.0.0.1", "255.0.0.0"),
      info("eth1", "10.1.0.2"),
      info("wlan0", "192.168.1.9"),
      info("eth2", "10.2.0.2"),
      info("en0", "192.168.7.2"),
      info("bridge0", "169.254.1.2", "255.255.0.0"),
    ],
    readText: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error("absent")),
    readLink: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error("absent")),
    exists: (path) => Promise.resolve(path in files),
    run: (command) =>
      command in commands ? Promise.resolve(commands[command]) : Promise.reject(new Error("no")),
  };
}

Deno.test("InterfaceProbe on Linux reads up state, wireless and driver from sysfs", async () => {
  const files = {
    "/sys/class/net/lo/flags": "0x9\n",
    "/sys/class/net/lo/operstate": "unknown\n",
    "/sys/class/net/eth1/flags": "0x1003\n",
    "/sys/class/net/eth1/operstate": "up\n",
    "/sys/class/net/eth1/device/driver": "../../../bus/thunderbolt/drivers/thunderbolt-net",
    "/sys/class/net/wlan0/flags": "0x1003\n",
    "/sys/class/net/wlan0/operstate": "up\n",
    "/sys/class/net/wlan0/wireless": "",
    // Up but without a link (cable out), and administratively down:
    "/sys/class/net/eth2/flags": "0x1003\n",
    "/sys/class/net/eth2/operstate": "lowerlayerdown\n",
    "/sys/class/net/en0/flags": "0x1002\n",
    "/sys/class/net/en0/operstate": "down\n",
  };
  const list = await new InterfaceProbe(sources("linux", files)).list();
  deepStrictEqual(list.map((i) => [i.name, i.type, i.up]), [
    ["lo", "loopback", true],
    ["eth1", "thunderbolt", true],
    ["wlan0", "wifi", true],
    ["eth2", "ethernet", false],
    ["en0", "ethernet", false],
    // No sysfs entry at all (a sandbox): taken as up rather than never used.
    ["bridge0", "container", true],
  ]);
});

Deno.test("InterfaceProbe on macOS asks ifconfig what is up and networksetup what each port is", async () => {
  const commands = {
    ifconfig: "lo0 en0 bridge0 utun3\n",
    networksetup:
      "Hardware Port: Wi-Fi\nDevice: en0\n\nHardware Port: Thunderbolt Bridge\nDevice: bridge0\n",
  };
  const list = await new InterfaceProbe(sources("darwin", {}, commands)).list();
  deepStrictEqual(list.map((i) => [i.name, i.type, i.up]), [
    ["lo", "loopback", false],
    ["eth1", "other", false],
    ["wlan0", "other", false],
    ["eth2", "other", false],
    ["en0", "wifi", true],
    ["bridge0", "thunderbolt", true],
  ]);
});

Deno.test("InterfaceProbe takes every interface as up when the OS cannot say", async () => {
  const list = await new InterfaceProbe(sources("darwin", {}, {})).list();
  deepStrictEqual(list.filter((i) => !i.up), []);
});
