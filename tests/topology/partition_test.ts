import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { partitionLayers, type ShardRange } from "../../lib/topology/partition.ts";

/** A seeded generator, so a failing random case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

function assertCoversExactlyOnce(ranges: ShardRange[], numLayers: number): void {
  let expectedStart = 0;
  for (const range of ranges) {
    strictEqual(range.startLayer, expectedStart, `gap or overlap before ${range.nodeId}`);
    strictEqual(range.endLayer >= range.startLayer, true, `empty range for ${range.nodeId}`);
    expectedStart = range.endLayer + 1;
  }
  strictEqual(expectedStart, numLayers);
}

Deno.test("partitionLayers splits two nodes of equal memory in halves, larger id first", () => {
  deepStrictEqual(
    partitionLayers([{ nodeId: "a", memory: 16384 }, { nodeId: "b", memory: 16384 }], 16),
    [
      { nodeId: "b", startLayer: 0, endLayer: 7 },
      { nodeId: "a", startLayer: 8, endLayer: 15 },
    ],
  );
});

Deno.test("partitionLayers gives the larger memory the first and larger share", () => {
  deepStrictEqual(
    partitionLayers([{ nodeId: "mac2", memory: 16384 }, { nodeId: "mac1", memory: 32768 }], 16),
    [
      { nodeId: "mac1", startLayer: 0, endLayer: 10 },
      { nodeId: "mac2", startLayer: 11, endLayer: 15 },
    ],
  );
});

Deno.test("partitionLayers rounds cumulative shares, not each share", () => {
  // Shares 10/3 each: boundaries round(3.33)=3, round(6.67)=7, 10.
  deepStrictEqual(
    partitionLayers([
      { nodeId: "x", memory: 8 },
      { nodeId: "y", memory: 8 },
      { nodeId: "z", memory: 8 },
    ], 10),
    [
      { nodeId: "z", startLayer: 0, endLayer: 2 },
      { nodeId: "y", startLayer: 3, endLayer: 6 },
      { nodeId: "x", startLayer: 7, endLayer: 9 },
    ],
  );
});

Deno.test("partitionLayers gives a single node every layer", () => {
  deepStrictEqual(partitionLayers([{ nodeId: "solo", memory: 0 }], 32), [
    { nodeId: "solo", startLayer: 0, endLayer: 31 },
  ]);
});

Deno.test("partitionLayers leaves out a node whose share rounds to no layer", () => {
  deepStrictEqual(
    partitionLayers([{ nodeId: "big", memory: 100000 }, { nodeId: "tiny", memory: 1 }], 4),
    [{ nodeId: "big", startLayer: 0, endLayer: 3 }],
  );
  // Boundaries round(1/3)=0, round(2/3)=1, 1: only the middle node gets the layer.
  deepStrictEqual(
    partitionLayers([
      { nodeId: "a", memory: 1 },
      { nodeId: "b", memory: 1 },
      { nodeId: "c", memory: 1 },
    ], 1),
    [{ nodeId: "b", startLayer: 0, endLayer: 0 }],
  );
});

Deno.test("partitionLayers leaves out a node of zero memory beside known ones", () => {
  deepStrictEqual(
    partitionLayers([{ nodeId: "known", memory: 8192 }, { nodeId: "unknown", memory: 0 }], 8),
    [{ nodeId: "known", startLayer: 0, endLayer: 7 }],
  );
});

Deno.test("partitionLayers splits equally when every memory is unknown", () => {
  deepStrictEqual(
    partitionLayers([
      { nodeId: "node1", memory: 0 },
      { nodeId: "node2", memory: 0 },
      { nodeId: "node3", memory: 0 },
      { nodeId: "node4", memory: 0 },
    ], 16),
    [
      { nodeId: "node4", startLayer: 0, endLayer: 3 },
      { nodeId: "node3", startLayer: 4, endLayer: 7 },
      { nodeId: "node2", startLayer: 8, endLayer: 11 },
      { nodeId: "node1", startLayer: 12, endLayer: 15 },
    ],
  );
});

Deno.test("partitionLayers orders ids by code unit, not by locale", () => {
  const ranges = partitionLayers([{ nodeId: "B", memory: 1 }, { nodeId: "a", memory: 1 }], 2);
  deepStrictEqual(ranges.map((range) => range.nodeId), ["a", "B"]);
});

Deno.test("partitionLayers covers every layer exactly once over random clusters", () => {
  const next = random(1234);
  for (let trial = 0; trial < 2000; trial++) {
    const count = 1 + Math.floor(next() * 8);
    const numLayers = 1 + Math.floor(next() * 130);
    const nodes = Array.from({ length: count }, (_, i) => ({
      nodeId: `n${i}`,
      memory: next() < 0.2 ? 0 : next() < 0.5 ? Math.floor(next() * 200000) : next() * 1e6,
    }));
    const ranges = partitionLayers(nodes, numLayers);
    assertCoversExactlyOnce(ranges, numLayers);
    strictEqual(new Set(ranges.map((range) => range.nodeId)).size, ranges.length);
  }
});

Deno.test("partitionLayers gives the same plan whatever the input order", () => {
  const next = random(99);
  for (let trial = 0; trial < 500; trial++) {
    const count = 1 + Math.floor(next() * 6);
    // Few distinct memories, so ties between ids are common.
    const nodes = Array.from({ length: count }, (_, i) => ({
      nodeId: `node-${i}`,
      memory: [0, 8192, 16384, 24576][Math.floor(next() * 4)],
    }));
    const numLayers = 1 + Math.floor(next() * 80);
    deepStrictEqual(
      partitionLayers(shuffled(nodes, next), numLayers),
      partitionLayers(nodes, numLayers),
    );
  }
});

Deno.test("partitionLayers gives each node close to its memory share", () => {
  const ranges = partitionLayers([
    { nodeId: "a", memory: 65536 },
    { nodeId: "b", memory: 32768 },
    { nodeId: "c", memory: 16384 },
    { nodeId: "d", memory: 16384 },
  ], 80);
  deepStrictEqual(ranges.map((range) => range.endLayer - range.startLayer + 1), [40, 20, 10, 10]);
});

Deno.test("partitionLayers rejects a layer count below one or not an integer", () => {
  const nodes = [{ nodeId: "a", memory: 1 }];
  throws(() => partitionLayers(nodes, 0), RangeError);
  throws(() => partitionLayers(nodes, 2.5), RangeError);
  throws(() => partitionLayers(nodes, NaN), RangeError);
});

Deno.test("partitionLayers rejects an empty node list", () => {
  throws(() => partitionLayers([], 4), { name: "RangeError", message: /no nodes/ });
});

Deno.test("partitionLayers rejects a duplicate node id", () => {
  throws(
    () => partitionLayers([{ nodeId: "a", memory: 1 }, { nodeId: "a", memory: 2 }], 4),
    { name: "TypeError", message: 'Cannot partition layers: node id "a" appears twice' },
  );
});

Deno.test("partitionLayers rejects a negative, NaN or infinite memory", () => {
  for (const memory of [-1, NaN, Infinity]) {
    throws(() => partitionLayers([{ nodeId: "a", memory }], 4), RangeError);
  }
});
