import { parseHardwarePorts } from "./interface_type.ts";
import {
  type InterfaceFactsOf,
  type LocalInterface,
  toLocalInterfaces,
} from "./local_interfaces.ts";

/** Where an {@linkcode InterfaceProbe} gets its facts; tests pass fakes. */
export interface InterfaceSources {
  /** `Deno.build.os`. */
  os: string;
  /** `Deno.networkInterfaces`. */
  networkInterfaces(): Deno.NetworkInterfaceInfo[];
  /** Reads a small text file (Linux sysfs); rejects when it is absent. */
  readText(path: string): Promise<string>;
  /** Resolves a symlink's target (Linux sysfs); rejects when it is absent. */
  readLink(path: string): Promise<string>;
  /** Whether a file or directory exists. */
  exists(path: string): Promise<boolean>;
  /** Runs a command and resolves to its standard output; rejects when it fails. */
  run(command: string, args: string[]): Promise<string>;
}

/** The real sources. */
export function systemInterfaceSources(): InterfaceSources {
  return {
    os: Deno.build.os,
    networkInterfaces: () => Deno.networkInterfaces(),
    readText: (path) => Deno.readTextFile(path),
    readLink: (path) => Deno.readLink(path),
    exists: (path) => Deno.stat(path).then(() => true, () => false),
    run: async (command, args) => {
      const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" })
        .output();
      if (!output.success) throw new Error(`${command} exited with ${output.code}`);
      return new TextDecoder().decode(output.stdout);
    },
  };
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
/** Link states (/sys/class/net/NAME/operstate) that carry traffic; tunnels say "unknown". */
const USABLE_OPERSTATES = new Set(["up", "unknown"]);
/** How long macOS's hardware port names are kept: they change only with new adapters. */
const HARDWARE_PORTS_MS = 60_000;

/**
 * Lists this machine's IPv4 interfaces with their up state and type.
 *
 * `Deno.networkInterfaces()` lists interfaces that are down too, and says nothing of their
 * kind, so the probe asks the OS: on Linux sysfs (`flags` for IFF_UP and IFF_RUNNING,
 * `wireless`, the device's driver), on macOS `ifconfig -l -u` (the interfaces that are up)
 * and `networksetup -listallhardwareports` (which device is Wi-Fi, Thunderbolt or
 * Ethernet). Elsewhere every listed interface counts as up and is typed by its name.
 */
export class InterfaceProbe {
  #sources: InterfaceSources;
  #ports: { at: number; ports: Map<string, string> } | null = null;

  /** Creates a probe over `sources` (the system's by default). */
  constructor(sources: InterfaceSources = systemInterfaceSources()) {
    this.#sources = sources;
  }

  /** The interfaces as they are now. */
  async list(): Promise<LocalInterface[]> {
    const infos = this.#sources.networkInterfaces();
    const names = [...new Set(infos.map((info) => info.name))];
    const facts = this.#sources.os === "linux"
      ? await this.#linuxFacts(names)
      : this.#sources.os === "darwin"
      ? await this.#darwinFacts()
      : () => ({ up: true });
    return toLocalInterfaces(infos, this.#sources.os, facts);
  }

  async #linuxFacts(names: string[]): Promise<InterfaceFactsOf> {
    const byName = new Map<string, ReturnType<InterfaceFactsOf>>();
    await Promise.all(names.map(async (name) => {
      // A name with a slash cannot be an interface, and must not walk sysfs.
      if (name.includes("/") || name === "." || name === "..") return;
      const dir = `/sys/class/net/${name}`;
      const flags = Number.parseInt(await this.#sources.readText(`${dir}/flags`).catch(() => ""));
      const operstate = (await this.#sources.readText(`${dir}/operstate`).catch(() => "")).trim();
      const wireless = await this.#sources.exists(`${dir}/wireless`) ||
        await this.#sources.exists(`${dir}/phy80211`);
      const driver = await this.#sources.readLink(`${dir}/device/driver`).then(
        (target) => target.split("/").pop(),
        () => undefined,
      );
      const known = Number.isFinite(flags);
      byName.set(name, {
        // Without sysfs (a sandbox) the interface is taken as up rather than never used.
        up: known ? (flags & IFF_UP) !== 0 && USABLE_OPERSTATES.has(operstate) : true,
        loopback: known && (flags & IFF_LOOPBACK) !== 0,
        wireless,
        driver,
      });
    }));
    return (name) => byName.get(name) ?? { up: false };
  }

  async #darwinFacts(): Promise<InterfaceFactsOf> {
    const up = await this.#sources.run("ifconfig", ["-l", "-u"]).then(
      (text) => new Set(text.trim().split(/\s+/)),
      () => null,
    );
    const ports = await this.#hardwarePorts();
    return (name) => ({ up: up === null || up.has(name), hardwarePort: ports.get(name) });
  }

  async #hardwarePorts(): Promise<Map<string, string>> {
    const now = performance.now();
    if (this.#ports !== null && now - this.#ports.at < HARDWARE_PORTS_MS) return this.#ports.ports;
    const ports = await this.#sources.run("networksetup", ["-listallhardwareports"]).then(
      parseHardwarePorts,
      () => new Map<string, string>(),
    );
    this.#ports = { at: now, ports };
    return ports;
  }
}
