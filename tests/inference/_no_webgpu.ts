/**
 * Runs a child script of this folder in a process without a Vulkan driver (lavapipe in CI
 * included), where Dawn finds no WebGPU adapter: a machine with no GPU.
 * @module
 */
import assert from "node:assert/strict";

/**
 * Runs `child` (a file name beside this one) with `args`, a missing driver file under
 * `scratch` for Vulkan, and returns the JSON of its last line of output.
 */
export async function runWithoutWebgpu(
  child: string,
  args: string[],
  scratch: string,
): Promise<Record<string, unknown>> {
  const root = new URL("../..", import.meta.url).pathname;
  const script = new URL(`./${child}`, import.meta.url).pathname;
  const noDriver = `${scratch}/no-such-icd.json`;
  const env = { ...Deno.env.toObject(), VK_DRIVER_FILES: noDriver, VK_ICD_FILENAMES: noDriver };
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}deno.json`, script, ...args],
    env,
    clearEnv: true,
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr).slice(-2000));
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
}
