/**
 * Whether ONNX Runtime's WebGPU provider can run on this machine, asked once per process
 * with a one-node session: cheap next to building a shard graph only to find no GPU.
 * @module
 */
import { encodeModel } from "./onnx_model.ts";
import { ONNX_OPSET } from "./graph_builder.ts";
import { missingProvider, ortErrorReason } from "./ort_session.ts";
import { ort } from "./ort_runtime.ts";

let answer: Promise<string | null> | null = null;

/**
 * Why WebGPU cannot run here (this onnxruntime-node build lacks it, or Dawn finds no
 * adapter), or null when it can. The answer is kept for the life of the process.
 */
export function webgpuUnavailable(): Promise<string | null> {
  answer ??= ask();
  return answer;
}

async function ask(): Promise<string | null> {
  const missing = missingProvider("webgpu");
  if (missing !== null) return missing;
  const model = encodeModel({
    irVersion: 10,
    opsets: [{ domain: "", version: ONNX_OPSET }],
    producerName: "exo-node webgpu adapter check",
    graphName: "adapter_check",
    inputs: [{ name: "x", type: "float32", shape: [1] }],
    outputs: [{ name: "y", type: "float32", shape: [1] }],
    nodes: [{
      opType: "Neg",
      domain: "",
      name: "neg",
      inputs: ["x"],
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
    return `no WebGPU adapter (${ortErrorReason(error)})`;
  }
}
