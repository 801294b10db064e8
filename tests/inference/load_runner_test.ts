import assert from "node:assert/strict";
import { assertClose, lastLogits, PROMPT, Q4_TOLERANCE, withCheckpoint } from "./_shard_fixture.ts";

Deno.test("loadRunner: a WebGPU shard with no adapter runs as the CPU's own graph and says why", async () => {
  await withCheckpoint({ architecture: "llama", seed: 7 }, async (f) => {
    const root = new URL("../..", import.meta.url).pathname;
    const child = new URL("./_webgpu_fallback_child.ts", import.meta.url).pathname;
    // No Vulkan driver (lavapipe in CI included): Dawn finds no adapter.
    const noDriver = `${f.root}/no-such-icd.json`;
    const env = { ...Deno.env.toObject(), VK_DRIVER_FILES: noDriver, VK_ICD_FILENAMES: noDriver };
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${root}deno.json`, child, f.dir, `${f.root}/cache`],
      env,
      clearEnv: true,
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr).slice(-2000));
    const got = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(got.cpuRunner, true, "the CPU runner, not the GPU graph on the CPU");
    assert.equal(got.executionProvider, "cpu");
    assert.match(got.fallbackReason, /WebGPU/);
    assertClose(got.logits, lastLogits(f, PROMPT), Q4_TOLERANCE, "prompt");
  });
});
