import assert from "node:assert/strict";
import { planRequest } from "../../lib/orchestration/plan_request.ts";
import type { ClusterNode, ClusterView } from "../../lib/topology/topology.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";

function node(nodeId: string, memory: number, hops: number, alive = true): ClusterNode {
  return { nodeId, capabilities: { ...UNKNOWN_CAPABILITIES, memory }, hops, alive };
}

function view(nodes: ClusterNode[], links: [string, string][]): ClusterView {
  return { selfId: "a", nodes, edges: links.map(([from, to]) => ({ from, to })) };
}

Deno.test("planRequest splits layers by memory over this node and its connected peers", () => {
  const plan = planRequest(
    view([node("a", 8000, 0), node("b", 24000, 1)], [["a", "b"]]),
    16,
  );
  assert.deepEqual(plan, [
    { nodeId: "b", startLayer: 0, endLayer: 11 },
    { nodeId: "a", startLayer: 12, endLayer: 15 },
  ]);
});

Deno.test("planRequest leaves out nodes seen only through a peer and nodes that are down", () => {
  const plan = planRequest(
    view(
      [node("a", 1000, 0), node("b", 1000, 1), node("c", 1000, 2), node("d", 1000, 1, false)],
      [["a", "b"], ["b", "c"]],
    ),
    4,
  );
  assert.deepEqual(plan.map((s) => s.nodeId).sort(), ["a", "b"]);
});

Deno.test("planRequest takes a peer only when it is connected to every peer taken before it", () => {
  // b and c are both direct peers of a but not of each other: only b (first by id) is taken.
  const nodes = [node("a", 1000, 0), node("b", 1000, 1), node("c", 1000, 1)];
  const apart = planRequest(view(nodes, [["a", "b"], ["a", "c"]]), 6);
  assert.deepEqual(apart.map((s) => s.nodeId).sort(), ["a", "b"]);
  // Either direction of an edge counts as a connection.
  const linked = planRequest(view(nodes, [["a", "b"], ["a", "c"], ["c", "b"]]), 6);
  assert.deepEqual(linked.map((s) => s.nodeId).sort(), ["a", "b", "c"]);
});

Deno.test("planRequest of a lone node gives it every layer", () => {
  assert.deepEqual(planRequest(view([node("a", 0, 0)], []), 30), [
    { nodeId: "a", startLayer: 0, endLayer: 29 },
  ]);
});
