// ExoNode with UDP discovery, in this process on loopback: the interface list is injected
// (127.0.0.1/30, whose "broadcast" 127.0.0.3 is a loopback address), so nothing leaves this
// machine. The nodes announce to each other's listen ports.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { ExoNode } from "../../lib/node/exo_node.ts";
import { Logger } from "../../lib/log/logger.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";
import type { LocalInterface } from "../../lib/discovery/local_interfaces.ts";
import { freePort } from "../_helpers/free_port.ts";
import { waitUntil } from "../_helpers/wait_until.ts";

const LOOP: LocalInterface[] = [
  {
    name: "lo",
    type: "loopback",
    priority: 0,
    address: "127.0.0.1",
    netmask: "255.0.0.0",
    up: true,
  },
  {
    name: "test0",
    type: "ethernet",
    priority: 4,
    address: "127.0.0.1",
    netmask: "255.255.255.252",
    up: true,
  },
];

function alive(node: ExoNode): string[] {
  return node.view().nodes.filter((n) => n.alive).map((n) => n.nodeId).sort();
}

async function startNode(
  id: string,
  options: { listen?: number; broadcast?: number; peersPath?: string; lines?: string[] },
): Promise<ExoNode> {
  const lines = options.lines;
  return await ExoNode.start({
    selfId: id,
    capabilities: { ...UNKNOWN_CAPABILITIES, memory: 1000 },
    nodeHost: "127.0.0.1",
    nodePort: 0,
    peersPath: options.peersPath,
    udp: options.listen === undefined ? undefined : {
      listenPort: options.listen,
      broadcastPort: options.broadcast!,
      intervalMs: 200,
      forgetMs: 2000,
      settleMs: 0,
    },
    interfaces: () => Promise.resolve(LOOP),
    defaultModel: null,
    logger: new Logger(lines ? "debug" : "error", (line) => lines?.push(line)).child(id),
  });
}

Deno.test("Two in-process nodes find each other by UDP announcements, name the link's interface and keep a peers file's peer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exo-udp-node-" });
  const [portA, portB] = [freePort(), freePort()];
  const nodes: ExoNode[] = [];
  try {
    // c is reachable only through a's peers file (say, an SSH tunnel) and runs no UDP.
    await Deno.writeTextFile(join(dir, "c_peers.json"), JSON.stringify({ peers: {} }));
    const c = await startNode("c", { peersPath: join(dir, "c_peers.json") });
    nodes.push(c);
    await Deno.writeTextFile(
      join(dir, "a_peers.json"),
      JSON.stringify({ peers: { c: { address: `127.0.0.1:${c.port}` } } }),
    );
    const lines: string[] = [];
    const a = await startNode("a", {
      listen: portA,
      broadcast: portB,
      peersPath: join(dir, "a_peers.json"),
      lines,
    });
    nodes.push(a);
    const b = await startNode("b", { listen: portB, broadcast: portA });
    nodes.push(b);
    await waitUntil(
      () => alive(a).join() === "a,b,c" && alive(b).join() === "a,b,c",
      "a, b and c see each other",
    );
    const topology = await a.topology();
    deepStrictEqual(topology.discovery?.modules, ["manual", "udp"]);
    equal(topology.discovery?.peers_file, join(dir, "a_peers.json"));
    const b1 = topology.nodes.find((n) => n.id === "b");
    deepStrictEqual(b1?.interface, { name: "lo", type: "loopback" });
    deepStrictEqual(topology.discovery?.udp?.heard.map((h) => h.node_id), ["b"]);
    deepStrictEqual(topology.discovery?.udp?.announcing_on.map((t) => t.interface), ["test0"]);
    ok((topology.discovery?.udp?.datagrams.accepted ?? 0) >= 1);
    ok(lines.some((l) => l.includes("Peer b connected")));

    // b stops: a drops it at once (its socket closes) and forgets it after the timeout.
    await b.stop();
    nodes.splice(nodes.indexOf(b), 1);
    await waitUntil(() => alive(a).join() === "a,c", "a drops b");
    // b's process is forgotten with its connection, so a restarted b is taken at once.
    let heard = 1;
    const started = performance.now();
    while (heard > 0 && performance.now() - started < 10_000) {
      heard = (await a.topology()).discovery?.udp?.heard.length ?? 0;
      if (heard > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    equal(heard, 0, "a forgets b");
    // c, from the file, stays.
    deepStrictEqual((await a.topology()).nodes.map((n) => n.id), ["a", "c"]);
  } finally {
    for (const node of nodes) await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
