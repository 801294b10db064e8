/**
 * Whether this machine can run onnxruntime-node's WebGPU provider: the build must carry it
 * and Dawn must find an adapter (on CI, Mesa's lavapipe from scripts/ci/webgpu_lavapipe.sh).
 * WebGPU tests are skipped, saying why in their names, where it cannot; with
 * `EXO_REQUIRE_WEBGPU=1` (set by .ci/run once the driver is in place) they fail instead.
 * @module
 */
import { ort } from "../../lib/inference/onnx/ort_runtime.ts";
import { encodeModel } from "../../lib/inference/onnx/onnx_model.ts";

async function probe(): Promise<string | null> {
  const backends = ort.listSupportedBackends().map((b) => b.name);
  if (!backends.includes("webgpu")) {
    return `this onnxruntime-node build has no WebGPU provider (has ${backends.join(", ")})`;
  }
  const model = encodeModel({
    irVersion: 10,
    opsets: [{ domain: "", version: 21 }],
    producerName: "webgpu-probe",
    graphName: "probe",
    inputs: [{ name: "x", type: "float32", shape: [1] }],
    outputs: [{ name: "y", type: "float32", shape: [1] }],
    nodes: [{
      opType: "Add",
      domain: "",
      name: "add",
      inputs: ["x", "x"],
      outputs: ["y"],
      attributes: {},
    }],
    initializers: [],
  });
  try {
    const session = await ort.InferenceSession.create(model, { executionProviders: ["webgpu"] });
    await session.release();
    return null;
  } catch (error) {
    // ORT prefixes its source location and the failed check; the last sentence is Dawn's.
    const message = (error as Error).message.split("\n")[0];
    return `no WebGPU adapter (${message.replace(/^.* was false\. /, "")})`;
  }
}

const WHY_NOT = await probe();
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
