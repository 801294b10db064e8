import { GqaShardRunner } from "./gqa_shard_runner.ts";
import type { ShardRunnerOptions } from "./shard_load.ts";
import { type LoadedRunner, ShardRunner } from "./shard_runner.ts";

/**
 * Loads a shard with the runner its provider needs. A GPU keeps the KV cache on the device,
 * which takes GroupQueryAttention's past/present form ({@linkcode GqaShardRunner}); the CPU
 * reads JS-owned caches in place ({@linkcode ShardRunner}). When WebGPU turns out not to
 * run (no adapter), the shard is loaded again as the CPU's own graph: the GPU's runs in
 * half precision and copies its cache every step, which the CPU does slowly.
 */
export async function loadRunner(options: ShardRunnerOptions): Promise<LoadedRunner> {
  if (options.executionProvider !== "webgpu") return await ShardRunner.load(options);
  const gpu = await GqaShardRunner.load(options);
  if (gpu.executionProvider === "webgpu") return gpu;
  const fallbackReason = gpu.fallbackReason;
  await gpu.dispose();
  return await ShardRunner.load({ ...options, executionProvider: "cpu", fallbackReason });
}
