import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  buildClusterView,
  type ClusterViewInput,
  MAX_HOPS,
  type TopologyReport,
  toTopologyReport,
} from "../../lib/topology/topology.ts";
import {
  type DeviceCapabilities,
  UNKNOWN_CAPABILITIES,
} from "../../lib/topology/device_capabilities.ts";

function caps(memory: number, chip = "Apple M2"): DeviceCapabilities {
  return { model: "Mac", chip, memory, flops: { fp32: 1, fp16: 2, int8: 4 } };
}

function input(overrides: Partial<ClusterViewInput> = {}): ClusterViewInput {
  return {
    selfId: "a",
    selfCapabilities: caps(1000),
    connected: new Map(),
    known: new Map(),
    reports: new Map(),
    ...overrides,
  };
}

/** A report from `reporter`: itself at hop 0, then `nodes` and `edges`. */
function report(
  reporter: string,
  nodes: [id: string, hops: number, memory: number][],
  edges: [string, string][] = [],
): TopologyReport {
  return {
    nodes: [[reporter, 0, 0] as const, ...nodes].map(([nodeId, hops, memory]) => ({
      nodeId,
      hops,
      capabilities: caps(memory),
    })),
    edges: edges.map(([from, to]) => ({ from, to })),
  };
}

function summary(view: ReturnType<typeof buildClusterView>): string[] {
  return view.nodes.map((node) =>
    `${node.nodeId}:${node.hops}:${node.alive ? "up" : "down"}${node.via ? `:${node.via}` : ""}`
  );
}

Deno.test("buildClusterView of a lone node holds only itself", () => {
  const view = buildClusterView(input());
  deepStrictEqual(view, {
    selfId: "a",
    nodes: [{ nodeId: "a", capabilities: caps(1000), hops: 0, alive: true }],
    edges: [],
  });
});

Deno.test("buildClusterView lists connected peers one hop away with their handshake capabilities", () => {
  const view = buildClusterView(input({ connected: new Map([["b", caps(2000)]]) }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up"]);
  strictEqual(view.nodes[1].capabilities.memory, 2000);
  deepStrictEqual(view.edges, [{ from: "a", to: "b" }]);
});

Deno.test("buildClusterView lists known peers that are not connected as not alive", () => {
  const view = buildClusterView(input({
    connected: new Map([["b", caps(2000)]]),
    known: new Map([["b", UNKNOWN_CAPABILITIES], ["c", UNKNOWN_CAPABILITIES]]),
  }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up", "c:1:down"]);
  strictEqual(view.nodes[1].capabilities.memory, 2000, "the handshake beats the peers file");
  deepStrictEqual(view.edges, [{ from: "a", to: "b" }]);
});

Deno.test("buildClusterView learns a node through a peer one hop farther, as alive", () => {
  const bEdges: [string, string][] = [["b", "a"], ["b", "c"]];
  const view = buildClusterView(input({
    connected: new Map([["b", caps(2000)]]),
    known: new Map([["c", UNKNOWN_CAPABILITIES]]),
    reports: new Map([["b", report("b", [["a", 1, 1000], ["c", 1, 3000]], bEdges)]]),
  }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up", "c:2:up:b"]);
  strictEqual(view.nodes[2].capabilities.memory, 3000);
  const edges = view.edges.map(({ from, to }) => `${from}-${to}`);
  deepStrictEqual(edges, ["a-b", "b-a", "b-c"]);
});

Deno.test("buildClusterView prefers first-hand knowledge over a peer's report", () => {
  const view = buildClusterView(input({
    connected: new Map([["b", caps(2000)], ["c", caps(3000)]]),
    reports: new Map([
      ["b", report("b", [["c", 1, 9999], ["a", 1, 9999]])],
    ]),
  }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up", "c:1:up"]);
  strictEqual(view.nodes[0].capabilities.memory, 1000);
  strictEqual(view.nodes[2].capabilities.memory, 3000);
});

Deno.test("buildClusterView keeps the nearest report and breaks ties by the lowest peer id", () => {
  const reports = new Map([
    ["c", report("c", [["x", 1, 111]])],
    ["b", report("b", [["x", 1, 222], ["y", 2, 333]])],
    ["d", report("d", [["y", 1, 444]])],
  ]);
  const connected = new Map([["d", caps(1)], ["c", caps(1)], ["b", caps(1)]]);
  const view = buildClusterView(input({ connected, reports }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up", "c:1:up", "d:1:up", "x:2:up:b", "y:2:up:d"]);
  strictEqual(view.nodes.find((node) => node.nodeId === "x")?.capabilities.memory, 222);
  strictEqual(view.nodes.find((node) => node.nodeId === "y")?.capabilities.memory, 444);
});

Deno.test("buildClusterView drops nodes beyond MAX_HOPS and their edges", () => {
  const view = buildClusterView(input({
    connected: new Map([["b", caps(1)]]),
    reports: new Map([[
      "b",
      report("b", [
        ["c", MAX_HOPS - 1, 1],
        ["d", MAX_HOPS, 1],
      ], [["c", "d"], ["b", "c"]]),
    ]]),
  }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up", `c:${MAX_HOPS}:up:b`]);
  deepStrictEqual(view.edges, [{ from: "a", to: "b" }, { from: "b", to: "c" }]);
});

Deno.test("buildClusterView ignores reports of peers no longer connected", () => {
  const view = buildClusterView(input({
    connected: new Map([["b", caps(1)]]),
    reports: new Map([["gone", report("gone", [["z", 1, 1]], [["gone", "z"]])]]),
  }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up"]);
  deepStrictEqual(view.edges, [{ from: "a", to: "b" }]);
});

Deno.test("buildClusterView forgets a node once no peer reports it", () => {
  const connected = new Map([["b", caps(1)], ["c", caps(1)]]);
  const before = buildClusterView(input({
    connected,
    reports: new Map([
      ["b", report("b", [["x", 1, 1]], [["b", "x"]])],
      ["c", report("c", [["x", 2, 1]])],
    ]),
  }));
  deepStrictEqual(summary(before), ["a:0:up", "b:1:up", "c:1:up", "x:2:up:b"]);

  const onlyC = buildClusterView(input({
    connected,
    reports: new Map([["b", report("b", [])], ["c", report("c", [["x", 2, 1]])]]),
  }));
  deepStrictEqual(summary(onlyC), ["a:0:up", "b:1:up", "c:1:up", "x:3:up:c"]);

  const after = buildClusterView(input({
    connected,
    reports: new Map([["b", report("b", [])], ["c", report("c", [])]]),
  }));
  deepStrictEqual(summary(after), ["a:0:up", "b:1:up", "c:1:up"]);
  deepStrictEqual(after.edges, [{ from: "a", to: "b" }, { from: "a", to: "c" }]);
});

Deno.test("buildClusterView skips report entries with a bad id or hop count", () => {
  const bad: TopologyReport = {
    nodes: [
      { nodeId: "ok", hops: 1, capabilities: caps(1) },
      { nodeId: "bad id", hops: 1, capabilities: caps(1) },
      { nodeId: "neg", hops: -1, capabilities: caps(1) },
      { nodeId: "frac", hops: 0.5, capabilities: caps(1) },
      { nodeId: "nan", hops: NaN, capabilities: caps(1) },
    ],
    edges: [{ from: "ok", to: "ok" }],
  };
  const view = buildClusterView(input({
    connected: new Map([["b", caps(1)]]),
    reports: new Map([["b", bad]]),
  }));
  deepStrictEqual(summary(view), ["a:0:up", "b:1:up", "ok:2:up:b"]);
  deepStrictEqual(view.edges, [{ from: "a", to: "b" }]);
});

Deno.test("buildClusterView does not depend on the order of its maps", () => {
  const connected = [["c", caps(3)], ["b", caps(2)]] as const;
  const reports = [
    ["b", report("b", [["x", 1, 5], ["y", 1, 6]], [["b", "x"], ["b", "y"]])],
    ["c", report("c", [["x", 1, 7], ["y", 1, 8]], [["c", "y"]])],
  ] as const;
  const forward = buildClusterView(input({
    connected: new Map(connected),
    reports: new Map(reports),
  }));
  const backward = buildClusterView(input({
    connected: new Map([...connected].reverse()),
    reports: new Map([...reports].reverse()),
  }));
  deepStrictEqual(backward, forward);
});

Deno.test("toTopologyReport sends alive nodes with their hops and the edges", () => {
  const view = buildClusterView(input({
    connected: new Map([["b", caps(2)]]),
    known: new Map([["down", UNKNOWN_CAPABILITIES]]),
    reports: new Map([["b", report("b", [["c", 1, 3]], [["b", "c"]])]]),
  }));
  deepStrictEqual(toTopologyReport(view), {
    nodes: [
      { nodeId: "a", capabilities: caps(1000), hops: 0 },
      { nodeId: "b", capabilities: caps(2), hops: 1 },
      { nodeId: "c", capabilities: caps(3), hops: 2 },
    ],
    edges: [{ from: "a", to: "b" }, { from: "b", to: "c" }],
  });
});

Deno.test("toTopologyReport leaves out nodes learned through the peer it is for", () => {
  const view = buildClusterView(input({
    connected: new Map([["b", caps(2)], ["d", caps(4)]]),
    reports: new Map([["b", report("b", [["c", 1, 3]])]]),
  }));
  deepStrictEqual(toTopologyReport(view, "b").nodes.map((node) => node.nodeId), ["a", "b", "d"]);
  deepStrictEqual(toTopologyReport(view, "d").nodes.map((node) => node.nodeId), [
    "a",
    "b",
    "d",
    "c",
  ]);
});

Deno.test("a dead node vanishes from a ring of views that feed each other", () => {
  // a - b - c - a ring, x hangs off c; each round every node rebuilds from the others'
  // reports. When c loses x, x must leave every view within MAX_HOPS rounds.
  const ids = ["a", "b", "c"];
  const links: Record<string, string[]> = { a: ["b", "c"], b: ["a", "c"], c: ["a", "b", "x"] };
  const reports = new Map<string, Map<string, TopologyReport>>(ids.map((id) => [id, new Map()]));
  const step = () => {
    const views = new Map(ids.map((id) => {
      const connected = new Map(links[id].map((peer) => [peer, caps(1)]));
      return [id, buildClusterView(input({ selfId: id, connected, reports: reports.get(id)! }))];
    }));
    for (const id of ids) {
      for (const peer of links[id].filter((peer) => ids.includes(peer))) {
        reports.get(peer)!.set(id, toTopologyReport(views.get(id)!, peer));
      }
    }
    return views;
  };
  for (let round = 0; round < 3; round++) step();
  strictEqual(step().get("a")!.nodes.some((node) => node.nodeId === "x"), true);

  links.c = ["a", "b"];
  let rounds = 0;
  let views = step();
  while (ids.some((id) => views.get(id)!.nodes.some((node) => node.nodeId === "x"))) {
    rounds++;
    strictEqual(rounds <= MAX_HOPS, true, "x still echoes after MAX_HOPS rounds");
    views = step();
  }
});
