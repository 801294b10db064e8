import assert from "node:assert/strict";
import { runWithoutWebgpu } from "./_no_webgpu.ts";
import { assertClose, lastLogits, PROMPT, Q4_TOLERANCE, withCheckpoint } from "./_shard_fixture.ts";

Deno.test("loadRunner: a WebGPU shard with no adapter runs as the CPU's own graph and says why", async () => {
  await withCheckpoint({ architecture: "llama", seed: 7 }, async (f) => {
    const got = await runWithoutWebgpu(
      "_webgpu_fallback_child.ts",
      [f.dir, `${f.root}/cache`],
      f.root,
    );
    assert.equal(got.cpuRunner, true, "the CPU runner, not the GPU graph on the CPU");
    assert.equal(got.executionProvider, "cpu");
    assert.match(got.fallbackReason as string, /WebGPU/);
    assertClose(got.logits as number[], lastLogits(f, PROMPT), Q4_TOLERANCE, "prompt");
  });
});
