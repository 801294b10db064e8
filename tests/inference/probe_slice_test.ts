import assert from "node:assert/strict";
import { probeSlices, projectMs } from "../../lib/inference/probe_slice.ts";
import { probePlan } from "../../lib/inference/probe_measure.ts";
import { relativeDifference } from "../../lib/inference/agreement.ts";

Deno.test("probeSlices times a short shard whole and a long one by its last layers", () => {
  assert.deepEqual(probeSlices(0, 3), {
    large: { startLayer: 0, endLayer: 3 },
    small: null,
    layers: 4,
  });
  assert.deepEqual(probeSlices(8, 15), {
    large: { startLayer: 12, endLayer: 15 },
    small: { startLayer: 15, endLayer: 15 },
    layers: 8,
  });
  assert.deepEqual(probeSlices(5, 7, 2).large, { startLayer: 6, endLayer: 7 });
  assert.throws(() => probeSlices(4, 3), /Cannot choose probe layers: 4..3 is not a range/);
  assert.throws(() => probeSlices(0, 3, 1), /at most 1 is below 2/);
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
    decodeSteps: 8,
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
