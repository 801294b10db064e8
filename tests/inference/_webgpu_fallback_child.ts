/**
 * Child of load_runner_test.ts: loads the checkpoint in `Deno.args[0]` as a WebGPU q4 shard
 * in a process that has no WebGPU adapter, runs the fixture's prompt and prints what it got.
 * @module
 */
import { loadRunner } from "../../lib/inference/load_runner.ts";
import { ShardRunner } from "../../lib/inference/shard_runner.ts";
import { loadModelConfig } from "../../lib/model/mod.ts";
import { Logger } from "../../lib/log/logger.ts";
import { PROMPT } from "./_shard_fixture.ts";

const [modelDir, cacheDir] = Deno.args;
const config = await loadModelConfig(modelDir);
const runner = await loadRunner({
  modelDir,
  config,
  startLayer: 0,
  endLayer: config.numLayers - 1,
  cacheDir,
  dtype: "q4",
  executionProvider: "webgpu",
  threads: 1,
  maxContext: 64,
  logger: new Logger("error", () => {}),
});
try {
  const output = await runner.step("r", { tokenIds: PROMPT });
  if (output.kind !== "logits") throw new TypeError("the shard returned hidden states");
  const result = {
    cpuRunner: runner instanceof ShardRunner,
    executionProvider: runner.executionProvider,
    fallbackReason: runner.fallbackReason,
    logits: [...output.logits],
  };
  await Deno.stdout.write(new TextEncoder().encode(`${JSON.stringify(result)}\n`));
} finally {
  await runner.dispose();
}
