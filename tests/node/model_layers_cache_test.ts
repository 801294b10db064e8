import assert from "node:assert/strict";
import { ModelLayersCache } from "../../lib/node/model_layers_cache.ts";
import type { ModelLayers } from "../../lib/node/default_model.ts";

function counting(known: Map<string, number>) {
  const asked: string[] = [];
  const lookup = (name: string): Promise<ModelLayers | null> => {
    asked.push(name);
    const numLayers = known.get(name);
    return Promise.resolve(numLayers === undefined ? null : { id: name, numLayers });
  };
  return { asked, lookup };
}

Deno.test("ModelLayersCache keeps a found count a minute and a missing one two seconds", async () => {
  let now = 0;
  const known = new Map([["a", 16]]);
  const { asked, lookup } = counting(known);
  const cache = new ModelLayersCache({ lookup, now: () => now });
  assert.deepEqual(await cache.get("a"), { id: "a", numLayers: 16 });
  assert.equal(await cache.get("b"), null);
  now = 1999;
  await cache.get("a");
  await cache.get("b");
  assert.deepEqual(asked, ["a", "b"]);
  // The model arrives on disk: it is known once the miss expires.
  known.set("b", 8);
  now = 2000;
  assert.deepEqual(await cache.get("b"), { id: "b", numLayers: 8 });
  now = 60_000;
  await cache.get("a");
  assert.deepEqual(asked, ["a", "b", "b", "a"]);
});

Deno.test("ModelLayersCache shares one lookup between concurrent asks and keeps no failure", async () => {
  let calls = 0;
  let fail = true;
  const cache = new ModelLayersCache({
    lookup: async (name) => {
      calls++;
      await Promise.resolve();
      if (fail) throw new Error("Cannot read config");
      return { id: name, numLayers: 4 };
    },
  });
  const both = await Promise.allSettled([cache.get("m"), cache.get("m")]);
  assert.deepEqual(both.map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(calls, 1);
  fail = false;
  assert.deepEqual(await cache.get("m"), { id: "m", numLayers: 4 });
  assert.equal(calls, 2);
});

Deno.test("ModelLayersCache holds at most maxEntries names, dropping the oldest", async () => {
  const { asked, lookup } = counting(new Map());
  const cache = new ModelLayersCache({ lookup, maxEntries: 2, now: () => 0 });
  for (const name of ["a", "b", "c"]) await cache.get(name);
  await cache.get("c");
  await cache.get("b");
  await cache.get("a");
  assert.deepEqual(asked, ["a", "b", "c", "a"]);
});
