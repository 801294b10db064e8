import assert from "node:assert/strict";
import { probeSlices, projectMs } from "../../lib/inference/probe_slice.ts";
import { probePlan } from "../../lib/inference/probe_measure.ts";
import { relativeDifference } from "../../lib/inference/agreement.ts";

/** A model whose embedding and head are `table` layers' worth of weights. */
function model(numLayers: number, table: number) {
  return { numLayers, layerParameters: 1000, tableParameters: table * 1000 };
}

Deno.test("probeSlices times a short shard whole and a long one by a few of its layers", () => {
  assert.deepEqual(probeSlices(0, 3, model(4, 0.5)), {
    large: { startLayer: 0, endLayer: 3 },
    small: null,
    layers: 4,
    headLayers: 0,
  });
  assert.deepEqual(probeSlices(4, 11, model(16, 4)), {
    large: { startLayer: 8, endLayer: 11 },
    small: { startLayer: 11, endLayer: 11 },
    layers: 8,
    headLayers: 0,
  });
  assert.deepEqual(probeSlices(5, 7, model(16, 4), 2).large, { startLayer: 6, endLayer: 7 });
  assert.throws(() => probeSlices(4, 3, model(16, 4)), /Cannot choose probe layers: 4..3 is not/);
  assert.throws(() => probeSlices(0, 16, model(16, 4)), /not a range within 0..15/);
  assert.throws(() => probeSlices(0, 3, model(4, 0.5), 1), /at most 1 is below 2/);
});

Deno.test("probeSlices leaves out a costly head or embedding and counts the head in layers", () => {
  // llama-3.2-1b's head is 4.3 layers' worth of weights: the last shard times layers 11..14.
  assert.deepEqual(probeSlices(8, 15, model(16, 4.3)), {
    large: { startLayer: 11, endLayer: 14 },
    small: { startLayer: 14, endLayer: 14 },
    layers: 8,
    headLayers: 4.3,
  });
  // The whole model: neither layer 0 (the embedding) nor 15 (the head) is loaded.
  const all = probeSlices(0, 15, model(16, 4.3));
  assert.deepEqual([all.large, all.headLayers], [{ startLayer: 11, endLayer: 14 }, 4.3]);
  assert.deepEqual(probeSlices(0, 3, model(16, 4.3)).large, { startLayer: 1, endLayer: 3 });
  // Too few layers between costly ends: the shard is timed whole, head and all.
  assert.deepEqual(probeSlices(13, 15, model(16, 4.3)).small, { startLayer: 14, endLayer: 14 });
  assert.deepEqual(probeSlices(14, 15, model(16, 4.3)), {
    large: { startLayer: 14, endLayer: 15 },
    small: null,
    layers: 2,
    headLayers: 0,
  });
  // A cheap table stays in: the test models' shards are timed whole.
  assert.equal(probeSlices(0, 3, model(4, 0.7)).small, null);
});

Deno.test("projectMs adds the per-layer cost the two slices show, never a negative one", () => {
  // 4 layers in 9 ms, 1 layer in 3 ms: 2 ms a layer and 1 ms fixed, so 16 layers take 33 ms.
  assert.equal(projectMs({ layers: 4, ms: 9 }, { layers: 1, ms: 3 }, 16), 33);
  // A GPU's large fixed part: slower than the CPU over 4 layers, faster over 16.
  const gpu = projectMs({ layers: 4, ms: 10 }, { layers: 1, ms: 8.5 }, 16);
  const cpu = projectMs({ layers: 4, ms: 8 }, { layers: 1, ms: 2 }, 16);
  assert.ok(gpu < cpu, `${gpu} vs ${cpu}`);
  assert.equal(projectMs({ layers: 4, ms: 5 }, { layers: 1, ms: 6 }, 16), 5, "noise, not speed");
  assert.equal(projectMs({ layers: 2, ms: 7 }, null, 2), 7, "the whole shard was timed");
});

Deno.test("probePlan fits the check and the timed steps into the context", () => {
  assert.deepEqual(probePlan(8192), {
    checkPrompt: 8,
    checkDecode: 2,
    decodeSteps: 16,
    promptTokens: 64,
  });
  const small = probePlan(12);
  assert.ok(small.checkPrompt + small.checkDecode + small.decodeSteps <= 12);
  assert.equal(small.promptTokens, 12);
  assert.deepEqual(probePlan(4), {
    checkPrompt: 1,
    checkDecode: 2,
    decodeSteps: 1,
    promptTokens: 4,
  });
  assert.throws(() => probePlan(3), /Cannot probe providers: a context of 3 is below 4 tokens/);
});

Deno.test("relativeDifference scales by the reference and treats NaN and size mismatches as wrong", () => {
  assert.equal(relativeDifference([1, 2.5], [1, 2]), 0.25);
  assert.equal(relativeDifference([1, NaN], [1, 2]), Infinity);
  assert.equal(relativeDifference([1], [1, 2]), Infinity);
  assert.equal(relativeDifference([0, 0], [0, 0]), Infinity);
});
