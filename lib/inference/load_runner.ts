import { GqaShardRunner } from "./gqa_shard_runner.ts";
import type { ShardRunnerOptions } from "./shard_load.ts";
import { type LoadedRunner, ShardRunner } from "./shard_runner.ts";

/**
 * Loads a shard with the runner its provider needs. A GPU keeps the KV cache on the device,
 * which takes GroupQueryAttention's past/present form ({@linkcode GqaShardRunner}); the CPU
 * reads JS-owned caches in place ({@linkcode ShardRunner}).
 */
export function loadRunner(options: ShardRunnerOptions): Promise<LoadedRunner> {
  return options.executionProvider === "webgpu"
    ? GqaShardRunner.load(options)
    : ShardRunner.load(options);
}
