import assert from "node:assert/strict";
import { availableProviders, missingProvider } from "../../lib/inference/onnx/ort_session.ts";

Deno.test("availableProviders lists what the build carries, CPU always", () => {
  assert.deepEqual(availableProviders(["cpu", "webgpu", "cuda"]), ["cpu", "webgpu"]);
  assert.deepEqual(availableProviders(["cpu", "coreml", "webgpu"]), ["cpu", "coreml", "webgpu"]);
  assert.deepEqual(availableProviders([]), ["cpu"]);
});

Deno.test("missingProvider refuses webgpu on a build without it, naming the build", () => {
  assert.equal(
    missingProvider("webgpu", ["cpu"], "linux/aarch64"),
    "webgpu is not in this onnxruntime-node build for linux/aarch64 (it has cpu)",
  );
  assert.equal(missingProvider("webgpu", ["cpu", "webgpu"], "linux/x86_64"), null);
  assert.equal(missingProvider("coreml", ["cpu"], "linux/x86_64"), null, "CoreML falls back");
});
