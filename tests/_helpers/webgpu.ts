/**
 * Whether this machine can run onnxruntime-node's WebGPU provider: the build must carry it
 * and Dawn must find an adapter (on CI, Mesa's lavapipe from scripts/ci/webgpu_lavapipe.sh).
 * WebGPU tests are skipped, saying why in their names, where it cannot; with
 * `EXO_REQUIRE_WEBGPU=1` (set by .ci/run once the driver is in place) they fail instead.
 * @module
 */
import { webgpuUnavailable } from "../../lib/inference/onnx/webgpu_adapter.ts";

const WHY_NOT = await webgpuUnavailable();
const REQUIRED = Deno.env.get("EXO_REQUIRE_WEBGPU") === "1";

/** Whether WebGPU runs here. */
export const WEBGPU_AVAILABLE = WHY_NOT === null;

/**
 * A WebGPU test: skipped, with the reason in its name, where WebGPU cannot run and it is not
 * required; failing with the reason where it is required and cannot.
 */
export function webgpuTest(name: string, fn: () => Promise<void>): Deno.TestDefinition {
  const skip = WHY_NOT !== null && !REQUIRED;
  return {
    name: skip
      ? `${name} (skipped: ${WHY_NOT}; run scripts/ci/webgpu_lavapipe.sh for a CPU driver)`
      : name,
    ignore: skip,
    fn: async () => {
      if (WHY_NOT !== null) {
        throw new Error(`Cannot run the WebGPU test: ${WHY_NOT}, and EXO_REQUIRE_WEBGPU=1`);
      }
      await fn();
    },
  };
}
