/**
 * Child of auto_provider_test.ts: loads the checkpoint in `Deno.args[0]` with
 * `--execution-provider auto` (shard cache `Deno.args[1]`, decisions kept in `Deno.args[2]`)
 * in a process that has no WebGPU adapter, runs the fixture's prompt and prints the choice,
 * the logits and the warnings logged.
 * @module
 */
import { OnnxEngine } from "../../lib/inference/engine.ts";
import { loadModelConfig } from "../../lib/model/mod.ts";
import { PROMPT } from "./_shard_fixture.ts";
import { Logger } from "../../lib/log/logger.ts";

const [modelDir, cacheDir, decisions] = Deno.args;
const config = await loadModelConfig(modelDir);
const warnings: string[] = [];
const engine = new OnnxEngine({
  cacheDir,
  threads: 1,
  maxContext: 32,
  auto: { decisions: { dir: decisions, machine: { chip: "Test Chip", cores: 2 } } },
  logger: new Logger("warn", (_, __, message) => warnings.push(message)),
});
try {
  const shard = await engine.loadShard({
    modelDir,
    startLayer: 0,
    endLayer: config.numLayers - 1,
    dtype: "q4",
    executionProvider: "auto",
  });
  const output = await engine.step("r", { tokenIds: PROMPT });
  if (output.kind !== "logits") throw new TypeError("the shard returned hidden states");
  const result = {
    activeProvider: shard.activeProvider,
    choice: shard.choice,
    logits: [...output.logits],
    warnings,
  };
  await Deno.stdout.write(new TextEncoder().encode(`${JSON.stringify(result)}\n`));
} finally {
  await engine.dispose();
}
