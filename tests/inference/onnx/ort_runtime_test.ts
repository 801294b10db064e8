import assert from "node:assert/strict";
import { GraphBuilder } from "../../../lib/inference/onnx/graph_builder.ts";
import { fromFloat16Bits, toFloat16Bits } from "../../../lib/inference/onnx/float16.ts";
import { ort } from "../../../lib/inference/onnx/ort_runtime.ts";

Deno.test("ort float16 tensors carry Uint16Array bits despite Deno's global Float16Array", async () => {
  assert.equal(typeof (globalThis as { Float16Array?: unknown }).Float16Array, "function");
  const dir = await Deno.makeTempDir();
  try {
    const b = new GraphBuilder(`${dir}/m.onnx.data`);
    b.input("x", "float16", [4]);
    b.node("Add", ["x", "x"], { outputs: ["y"] });
    b.output("y", "float16", [4]);
    b.writeModel(`${dir}/m.onnx`, "test");
    const session = await ort.InferenceSession.create(`${dir}/m.onnx`);
    try {
      const x = new ort.Tensor("float16", toFloat16Bits(Float32Array.of(1, -2, 0.5, 3)), [4]);
      const { y } = await session.run({ x });
      assert.ok(y.data instanceof Uint16Array);
      assert.deepEqual([...fromFloat16Bits(y.data)], [2, -4, 1, 6]);
    } finally {
      await session.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("toFloat16Bits rounds to the nearest half and fromFloat16Bits reads it back", () => {
  const bits = toFloat16Bits(Float32Array.of(1, 65504, 1 / 3, 1e-9));
  assert.deepEqual([...bits.subarray(0, 2)], [0x3c00, 0x7bff]);
  assert.deepEqual([...fromFloat16Bits(bits)], [1, 65504, 0.333251953125, 0]);
});
