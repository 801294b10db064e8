// UDP discovery between real hosts: every node runs in a Linux network namespace of its own
// with its own addresses, the namespaces joined by veth cables or a bridge, and no peers
// file anywhere unless a test says so. Needs root; skipped (saying why) where namespaces
// cannot be made, and failing instead when EXO_REQUIRE_NETNS=1 (CI).
import assert from "node:assert/strict";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { NodeProcess as Node } from "../_helpers/node_process.ts";
import { type LabHost, NetLab, netnsProblem, netnsRequired } from "../_helpers/net_lab.ts";
import { aliveIds, writePeers } from "./_cluster.ts";
import { clientOf, eventually, planIds, servingArgs } from "./_serving.ts";
import { referenceGreedy, visibleText, writeTestModel } from "./_model.ts";
import { ModelTokenizer } from "../../lib/inference/tokenizer/model_tokenizer.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";

const problem = netnsRequired() ? null : await netnsProblem();
const skipped = problem === null ? "" : ` (skipped: ${problem})`;

// Inside a namespace every port is free: each node uses the defaults of a real machine.
const NODE_PORT = 50051;
const API_PORT = 52415;
const MESSAGES = [{ role: "user" as const, content: "Tell me about the cluster" }];
const MAX_TOKENS = 12;
const FIGURES = Deno.env.get("EXO_TEST_FIGURES") === "1";

const UDP = ["--discovery-module", "udp"];

/** Starts a node in a host's namespace; `args` carry its discovery flags. */
function spawnIn(
  dir: string,
  host: LabHost,
  id: string,
  args: string[],
  stateName = id,
): NodeProcess {
  return Node.spawn({
    id,
    nodePort: NODE_PORT,
    apiPort: API_PORT,
    stateDir: `${dir}/state-${stateName}`,
    netns: { name: host.ns, host: host.address },
    args,
  });
}

async function topologyOf(node: NodeProcess): Promise<TopologySnapshot> {
  return await node.getJson<TopologySnapshot>("/v1/topology");
}

async function sees(node: NodeProcess, ids: string[]): Promise<boolean> {
  return (await aliveIds(node)).join() === [...ids].sort().join();
}

function figure(text: string): void {
  // deno-lint-ignore no-console -- opt-in figures for whoever measures discovery
  if (FIGURES) console.log(text);
}

Deno.test({
  name:
    `Two hosts with udp discovery and no peers file find each other within 5 s over the better of two cables, split a chat exactly, drop a killed node within 15 s, find it again, and move to the other cable when one is pulled${skipped}`,
  ignore: problem !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-udp-pair-" });
    const lab = await NetLab.create();
    let a: NodeProcess | undefined;
    let b: NodeProcess | undefined;
    try {
      const model = await writeTestModel(dir);
      const tokenizer = await ModelTokenizer.load(model.dir);
      const reference = await referenceGreedy(model, tokenizer.encodeChat(MESSAGES), MAX_TOKENS);
      const expected = await visibleText(model, reference.ids);

      const [hostA, hostB] = [await lab.host("a"), await lab.host("b")];
      // Two cables: an Ethernet one and one named like Docker's bridge, which must lose.
      await lab.cable(hostA, hostB, "docker0", "172.17.77");
      await lab.cable(hostA, hostB, "eth1", "192.168.77");
      const args = [...UDP, ...servingArgs(model.dir, MAX_TOKENS), "--device-memory", "1000"];
      const spawnedAt = performance.now();
      a = spawnIn(dir, hostA, "mac1", args);
      b = spawnIn(dir, hostB, "mac2", args);
      await Promise.all([a.ready(), b.ready()]);
      const readyMs = performance.now() - spawnedAt;
      const nodeA = a;
      const nodeB = b;
      const foundMs = await eventually(
        async () => await sees(nodeA, ["mac1", "mac2"]) && await sees(nodeB, ["mac1", "mac2"]),
        "both hosts see each other",
        5_000,
      );
      figure(
        `udp: both hosts saw each other ${Math.round(foundMs)} ms after both were ready ` +
          `(${Math.round(readyMs + foundMs)} ms after both processes started)`,
      );

      // Both sides name the Ethernet cable, not the bridge, for their link.
      for (
        const [node, peer, address] of [[a, "mac2", "192.168.77.2"], [
          b,
          "mac1",
          "192.168.77.1",
        ]] as const
      ) {
        const topology = await topologyOf(node);
        const link = topology.nodes.find((n) => n.id === peer);
        assert.deepEqual(
          link?.interface,
          { name: "eth1", type: "ethernet" },
          JSON.stringify(topology),
        );
        assert.ok(link?.address?.startsWith(`${address}:`), `${peer} via ${link?.address}`);
        assert.deepEqual(topology.discovery?.modules, ["udp"]);
        assert.deepEqual(
          topology.discovery?.udp?.announcing_on.map((t) => t.interface),
          ["eth1", "mgmt0", "docker0"],
        );
      }

      await eventually(async () => (await planIds(nodeA)).length === 2, "mac1 plans over both");
      const split = await clientOf(a).chat.completions.create({
        model: model.dir,
        messages: MESSAGES,
        max_tokens: MAX_TOKENS,
        temperature: 0,
      });
      assert.equal(split.choices[0].message.content, expected);
      assert.equal(split.usage?.completion_tokens, reference.ids.length);

      await b.kill("SIGKILL");
      const droppedMs = await eventually(
        async () => await sees(nodeA, ["mac1"]),
        "mac1 drops the killed mac2",
        15_000,
      );
      figure(`udp: a SIGKILLed node was dropped after ${Math.round(droppedMs)} ms`);

      // Alone, mac1 is the single-node cluster: the same tokens.
      await eventually(async () => (await planIds(nodeA)).length === 1, "mac1 plans alone");
      const single = await clientOf(a).chat.completions.create({
        model: model.dir,
        messages: MESSAGES,
        max_tokens: MAX_TOKENS,
        temperature: 0,
      });
      assert.equal(single.choices[0].message.content, split.choices[0].message.content);
      assert.equal(single.usage?.completion_tokens, split.usage?.completion_tokens);

      b = spawnIn(dir, hostB, "mac2", args);
      await b.ready();
      const restarted = b;
      const backMs = await eventually(
        async () => await sees(nodeA, ["mac1", "mac2"]) && await sees(restarted, ["mac1", "mac2"]),
        "mac2 is found again after its restart",
        10_000,
      );
      figure(`udp: the restarted node was found ${Math.round(backMs)} ms after it was ready`);

      // The Ethernet cable is pulled: no socket closes, so the link is judged by ping
      // silence, and the pair goes on over the other cable.
      const before = await topologyOf(nodeA);
      assert.equal(before.nodes.find((n) => n.id === "mac2")?.interface?.name, "eth1");
      await lab.setLink(hostB, "eth1", "down");
      const failoverMs = await eventually(
        async () => {
          const link = (await topologyOf(nodeA)).nodes.find((n) => n.id === "mac2");
          return link?.alive === true && link.interface?.name === "docker0";
        },
        "mac1 reaches mac2 over the remaining cable",
        15_000,
      );
      figure(
        `udp: after the Ethernet cable was pulled the pair was linked over docker0 in ${
          Math.round(failoverMs)
        } ms`,
      );
    } finally {
      await stopAll([a, b]);
      await lab.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `Three hosts on a switch admit each other by cluster secret, never a host with the wrong secret, refuse a second node with a taken id, and take a node restarted at a new address${skipped}`,
  ignore: problem !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-udp-switch-" });
    const lab = await NetLab.create();
    const nodes: NodeProcess[] = [];
    try {
      const hosts = [];
      for (const name of ["n1", "n2", "n3", "bad", "spare"]) hosts.push(await lab.host(name));
      const addresses = await lab.switch(hosts, "eth1", "192.168.88");
      const [h1, h2, h3, hBad, hSpare] = hosts;
      const secret = [...UDP, "--cluster-secret", "correct horse"];
      const [n1, n2, n3] = [
        spawnIn(dir, h1, "n1", secret),
        spawnIn(dir, h2, "n2", secret),
        spawnIn(dir, h3, "n3", secret),
      ];
      const intruder = spawnIn(dir, hBad, "intruder", [
        ...UDP,
        "--cluster-secret",
        "battery staple",
      ]);
      nodes.push(n1, n2, n3, intruder);
      await Promise.all(nodes.map((n) => n.ready()));
      const trio = ["n1", "n2", "n3"];
      await eventually(
        async () => (await Promise.all([n1, n2, n3].map((n) => sees(n, trio)))).every(Boolean),
        "n1, n2 and n3 see each other",
        10_000,
      );
      await eventually(
        () =>
          Promise.resolve(
            n1.logged("node intruder failed the cluster secret proof") &&
              intruder.logged("failed the cluster secret proof"),
          ),
        "n1 refuses the intruder, which is told why",
        10_000,
      );
      assert.deepEqual(await aliveIds(intruder), ["intruder"]);
      for (const node of [n1, n2, n3]) assert.deepEqual(await aliveIds(node), trio);

      // A second node calling itself n3 joins the switch: refused, with a line on both sides.
      const dup = spawnIn(dir, hSpare, "n3", secret, "n3-copy");
      nodes.push(dup);
      await dup.ready();
      await eventually(
        () =>
          Promise.resolve(
            n1.logged(`node id n3 is already used by the node at ${addresses[2]}`) &&
              dup.logged(
                `Refused by peer: node id n3 is already used by the node at ${addresses[2]}`,
              ) &&
              n3.logged(`Another node announces this node's id n3 from ${addresses[4]}`),
          ),
        "the copy of n3 is refused and every side says so",
        10_000,
      );
      // Neither n1 nor n2 let the copy take the place of n3, whichever heard whom first.
      for (const node of [n1, n2]) {
        const n3Link = (await topologyOf(node)).nodes.find((n) => n.id === "n3");
        assert.ok(n3Link?.address?.startsWith(`${addresses[2]}:`), n3Link?.address ?? "no address");
        assert.deepEqual(await aliveIds(node), trio);
      }
      assert.deepEqual(await aliveIds(dup), ["n3"]);
      await dup.stop();

      // n3 dies and comes back on another host (a new address): it replaces its old entry.
      await n3.kill("SIGKILL");
      const moved = spawnIn(dir, hSpare, "n3", secret);
      nodes.push(moved);
      await moved.ready();
      const movedMs = await eventually(
        async () => {
          const link = (await topologyOf(n1)).nodes.find((n) => n.id === "n3");
          return link?.alive === true && (link.address?.startsWith(`${addresses[4]}:`) ?? false) &&
            await sees(n2, trio);
        },
        "n3 is back at its new address",
        15_000,
      );
      figure(`udp: n3 restarted at a new address was taken ${Math.round(movedMs)} ms after ready`);
      assert.deepEqual(await aliveIds(intruder), ["intruder"]);
      // Not asserted: n1's duplicate_id count. Whether the copy's datagrams count there or
      // the copy is refused at the handshake depends on whether n1 had heard n3's own
      // announcement before the copy's (n3 may have dialed n1 first); the refusal above is
      // what matters, and announced_peers_test checks the count itself.
    } finally {
      await stopAll(nodes);
      await lab.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `A node that hears another's announcements one way only still joins both, and a peers file's node beside udp stays${skipped}`,
  ignore: problem !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-udp-oneway-" });
    const lab = await NetLab.create();
    const nodes: NodeProcess[] = [];
    try {
      const [hA, hB, hC] = [await lab.host("a"), await lab.host("b"), await lab.host("c")];
      const [, , addressC] = await lab.switch([hA, hB, hC], "eth1", "192.168.99");
      // b announces to a's port but listens where nobody announces: as if a firewall let
      // only b's broadcasts through. c runs no UDP discovery at all: a knows it from a file.
      await Deno.writeTextFile(
        `${dir}/a_peers.json`,
        JSON.stringify({ peers: { c: { address: `${addressC}:${NODE_PORT}` } } }),
      );
      await writePeers(`${dir}/c_peers.json`, []);
      const a = spawnIn(dir, hA, "a", [...UDP, "--discovery-config-path", `${dir}/a_peers.json`]);
      const b = spawnIn(dir, hB, "b", [
        ...UDP,
        "--listen-port",
        "5679",
        "--broadcast-port",
        "5678",
      ]);
      const c = spawnIn(dir, hC, "c", [
        "--discovery-module",
        "manual",
        "--discovery-config-path",
        `${dir}/c_peers.json`,
      ]);
      nodes.push(a, b, c);
      await Promise.all(nodes.map((n) => n.ready()));
      const all = ["a", "b", "c"];
      await eventually(
        async () => await sees(a, all) && await sees(b, all) && await sees(c, all),
        "a, b and c see each other",
        10_000,
      );
      const fromB = await topologyOf(b);
      assert.equal(fromB.nodes.find((n) => n.id === "a")?.hops, 1, "b is linked to a directly");
      assert.deepEqual(fromB.discovery?.udp?.heard, [], "b never heard an announcement");
      assert.equal(fromB.discovery?.udp?.datagrams.accepted, 0);
      const fromA = await topologyOf(a);
      assert.deepEqual(fromA.discovery?.modules, ["manual", "udp"]);
      assert.deepEqual(fromA.discovery?.udp?.heard.map((h) => h.node_id), ["b"]);
      assert.equal(fromA.nodes.find((n) => n.id === "c")?.hops, 1);
    } finally {
      await stopAll(nodes);
      await lab.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
