/**
 * Hosts with their own addresses for multi-node tests: Linux network namespaces joined by
 * veth pairs or a bridge, each reachable from the test process (in the root namespace)
 * over a /30 management link of its own. Everything a lab makes is named after it and
 * deleted by `close`; namespaces left by a test process that died are deleted by the next
 * lab. Only addresses inside the lab are ever used.
 * @module
 */

import { inSubnet } from "../../lib/discovery/ipv4.ts";

const PREFIX = "exotest";

/** One namespace of a lab: a host with its own interfaces and addresses. */
export interface LabHost {
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  /** The host's address on its management link, which the test process reaches. */
  address: string;
}

/** Output of one command. */
interface Run {
  ok: boolean;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[]): Promise<Run> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const decoder = new TextDecoder();
    return {
      ok: output.success,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr).trim(),
    };
  } catch (error) {
    return {
      ok: false,
      stdout: "",
      stderr: error instanceof Error ? error.message : String(error),
    };
  }
}

async function ip(...args: string[]): Promise<string> {
  const result = await run("ip", args);
  if (!result.ok) throw new Error(`ip ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Why this machine cannot make network namespaces (not Linux, no `ip`, not root, or the
 * kernel refuses), or null when it can: tried by making and deleting one.
 */
export async function netnsProblem(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  const version = await run("ip", ["-V"]);
  if (!version.ok) return `the ip command (iproute2) is not available: ${version.stderr}`;
  const probe = `${PREFIX}-${Deno.pid}-probe${Math.floor(Math.random() * 1e6)}`;
  const added = await run("ip", ["netns", "add", probe]);
  if (!added.ok) return `cannot make a network namespace (root is needed): ${added.stderr}`;
  await run("ip", ["netns", "delete", probe]);
  return null;
}

/** Whether a test must fail rather than skip when namespaces cannot be made (CI sets it). */
export function netnsRequired(): boolean {
  return Deno.env.get("EXO_REQUIRE_NETNS") === "1";
}

/** A set of namespaces and links; `close` removes all of it. */
export class NetLab {
  readonly #tag: string;
  /** 10.X.Y.0/24, free in the root namespace: management links are /30s inside it. */
  readonly #managementNet: string;
  #namespaces: string[] = [];
  #links = 0;
  #hosts = 0;

  private constructor(tag: string, managementNet: string) {
    this.#tag = tag;
    this.#managementNet = managementNet;
  }

  /** Deletes namespaces of earlier labs whose test process is gone, then makes a new lab. */
  static async create(): Promise<NetLab> {
    await removeStaleNamespaces();
    const tag = Math.random().toString(36).slice(2, 7);
    return new NetLab(tag, await freeManagementNet());
  }

  /**
   * Makes a host: a namespace with loopback up and a management link to the root
   * namespace, whose root end has the first address of a /30 and the host the second.
   */
  async host(name: string): Promise<LabHost> {
    const ns = await this.#namespace(name);
    const index = this.#hosts++;
    if (index >= 63) throw new RangeError("Cannot make more than 63 hosts in one lab");
    const rootEnd = `${this.#tag}m${index}`;
    const hostEnd = `${this.#tag}n${index}`;
    const [rootAddress, hostAddress] = [4 * index + 1, 4 * index + 2].map((last) =>
      `${this.#managementNet}.${last}`
    );
    await ip("link", "add", rootEnd, "type", "veth", "peer", "name", hostEnd);
    await ip("link", "set", hostEnd, "netns", ns);
    await ip("-n", ns, "link", "set", hostEnd, "name", "mgmt0");
    await ip("addr", "add", `${rootAddress}/30`, "dev", rootEnd);
    await ip("-n", ns, "addr", "add", `${hostAddress}/30`, "dev", "mgmt0");
    await ip("link", "set", rootEnd, "up");
    await ip("-n", ns, "link", "set", "mgmt0", "up");
    return { ns, address: hostAddress };
  }

  /**
   * Joins two hosts with a veth pair named `name` on both sides, addressed `prefix.1` and
   * `prefix.2` (a /24), as a cable between two machines.
   */
  async cable(a: LabHost, b: LabHost, name: string, prefix: string): Promise<void> {
    const [endA, endB] = this.#linkNames();
    await ip("link", "add", endA, "type", "veth", "peer", "name", endB);
    for (const [end, host, last] of [[endA, a, 1], [endB, b, 2]] as const) {
      await ip("link", "set", end, "netns", host.ns);
      await ip("-n", host.ns, "link", "set", end, "name", name);
      await ip("-n", host.ns, "addr", "add", `${prefix}.${last}/24`, "dev", name);
      await ip("-n", host.ns, "link", "set", name, "up");
    }
  }

  /**
   * Puts hosts on one switch: a bridge in a namespace of its own, each host linked to it
   * by an interface named `name` with address `prefix.(i+1)` (a /24). Returns the hosts'
   * addresses in order.
   */
  async switch(hosts: LabHost[], name: string, prefix: string): Promise<string[]> {
    const hub = await this.#namespace(`hub${this.#links}`);
    await ip("-n", hub, "link", "add", "br0", "type", "bridge");
    await ip("-n", hub, "link", "set", "br0", "up");
    const addresses: string[] = [];
    for (const [i, host] of hosts.entries()) {
      const [port, end] = this.#linkNames();
      await ip("link", "add", port, "type", "veth", "peer", "name", end);
      await ip("link", "set", port, "netns", hub);
      await ip("-n", hub, "link", "set", port, "master", "br0");
      await ip("-n", hub, "link", "set", port, "up");
      await ip("link", "set", end, "netns", host.ns);
      await ip("-n", host.ns, "link", "set", end, "name", name);
      const address = `${prefix}.${i + 1}`;
      await ip("-n", host.ns, "addr", "add", `${address}/24`, "dev", name);
      await ip("-n", host.ns, "link", "set", name, "up");
      addresses.push(address);
    }
    return addresses;
  }

  /** Takes a host's interface down or up: pulls or plugs a cable. */
  async setLink(host: LabHost, name: string, state: "up" | "down"): Promise<void> {
    await ip("-n", host.ns, "link", "set", name, state);
  }

  /** Ends any process still inside the lab's namespaces, then deletes them (and their links). */
  async close(): Promise<void> {
    for (const ns of this.#namespaces.reverse()) await deleteNamespace(ns);
    this.#namespaces = [];
  }

  async #namespace(name: string): Promise<string> {
    const ns = `${PREFIX}-${Deno.pid}-${this.#tag}-${name}`;
    await ip("netns", "add", ns);
    this.#namespaces.push(ns);
    await ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  /** Two fresh names for a veth pair made in the root namespace (at most 15 characters). */
  #linkNames(): [string, string] {
    const index = this.#links++;
    return [`${this.#tag}a${index}`, `${this.#tag}b${index}`];
  }
}

async function deleteNamespace(ns: string): Promise<void> {
  // Only processes the lab's tests started run there: end them by id, or the namespace
  // would outlive its deletion.
  const pids = (await run("ip", ["netns", "pids", ns])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await run("ip", ["netns", "delete", ns]);
}

async function removeStaleNamespaces(): Promise<void> {
  const listing = await run("ip", ["netns", "list"]);
  for (const line of listing.stdout.split("\n")) {
    const name = line.split(" ")[0];
    const owner = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (!owner || Number(owner[1]) === Deno.pid) continue;
    const alive = await Deno.stat(`/proc/${owner[1]}`).then(() => true, () => false);
    if (!alive) await deleteNamespace(name);
  }
}

/** A 10.X.Y.0/24 that no address or route of the root namespace overlaps (default aside). */
async function freeManagementNet(): Promise<string> {
  const text = (await ip("-4", "addr")) + (await ip("-4", "route"));
  const taken = [...text.matchAll(/(\d+\.\d+\.\d+\.\d+)\/(\d+)/g)]
    .map(([, address, bits]) => ({ address, netmask: netmaskOf(Number(bits)) }))
    .filter(({ netmask }) => netmask !== "0.0.0.0");
  for (let attempt = 0; attempt < 50; attempt++) {
    const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
    const overlaps = taken.some(({ address, netmask }) =>
      inSubnet(`${net}.0`, address, netmask) || inSubnet(address, `${net}.0`, "255.255.255.0")
    );
    if (!overlaps) return net;
  }
  throw new Error("Cannot find a free 10.x.y.0/24 for the lab's management links");
}

function netmaskOf(bits: number): string {
  const mask = bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 255).join(".");
}
