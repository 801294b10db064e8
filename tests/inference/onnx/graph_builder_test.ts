import assert from "node:assert/strict";
import { GraphBuilder } from "../../../lib/inference/onnx/graph_builder.ts";
import { ort } from "../../../lib/inference/onnx/ort_runtime.ts";
import { bytesOf } from "../../../lib/inference/onnx/weight_layout.ts";

Deno.test("GraphBuilder writes a model whose external weights ORT loads from the file path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rows = 32, cols = 48; // 6 KiB: large enough to go to the data file
    const weight = Float32Array.from({ length: rows * cols }, (_, i) => (i % 7) - 3);
    const bias = Float32Array.from({ length: cols }, (_, i) => i / 8);
    const b = new GraphBuilder(`${dir}/m.onnx.data`);
    const x = b.input("x", "float32", ["batch", rows]);
    const w = b.initializer("w", "float32", [rows, cols], bytesOf(weight));
    const bi = b.initializer("bias", "float32", [cols], bytesOf(bias));
    b.node("Add", [b.node1("MatMul", [x, w]), bi], { outputs: ["y"] });
    b.output("y", "float32", ["batch", cols]);
    b.writeModel(`${dir}/m.onnx`, "test");
    assert.ok(b.dataLength >= weight.byteLength);

    const session = await ort.InferenceSession.create(`${dir}/m.onnx`);
    try {
      const input = Float32Array.from({ length: 2 * rows }, (_, i) => Math.sin(i));
      const { y } = await session.run({ x: new ort.Tensor("float32", input, [2, rows]) });
      assert.deepEqual(y.dims, [2, cols]);
      const got = y.data as Float32Array;
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < cols; c++) {
          let want = bias[c];
          for (let k = 0; k < rows; k++) want += input[r * rows + k] * weight[k * cols + c];
          assert.ok(Math.abs(got[r * cols + c] - want) < 1e-4, `y[${r},${c}]`);
        }
      }
    } finally {
      await session.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GraphBuilder aligns each external tensor in the data file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const b = new GraphBuilder(`${dir}/m.onnx.data`);
    b.initializer("a", "uint8", [1500], new Uint8Array(1500).fill(1));
    b.initializer("b", "uint8", [70_000], new Uint8Array(70_000).fill(2));
    b.initializer("c", "uint8", [2000], new Uint8Array(2000).fill(3));
    b.close();
    const data = await Deno.readFile(`${dir}/m.onnx.data`);
    const model = b.toModel("test");
    const offsets = model.initializers.map((i) => i.data.kind === "external" ? i.data.offset : -1);
    assert.equal(offsets[0], 0);
    assert.equal(offsets[1] % 4096, 0);
    assert.equal(offsets[2] % 64, 0);
    assert.equal(data[offsets[1]], 2);
    assert.equal(data[offsets[2] + 1999], 3);
    assert.equal(data.length, offsets[2] + 2000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GraphBuilder rejects a name used twice", () => {
  const b = new GraphBuilder("/nonexistent/m.onnx.data");
  b.input("x", "float32", [1]);
  assert.throws(() => b.input("x", "float32", [1]), TypeError);
  assert.throws(() => b.node("Relu", ["x"], { outputs: ["x"] }), TypeError);
});

Deno.test("GraphBuilder gives fresh names that never collide", () => {
  const b = new GraphBuilder("/nonexistent/m.onnx.data");
  const names = new Set([
    b.node1("Relu", ["x"]),
    b.node1("Relu", ["x"]),
    b.fresh("Relu_out0"),
  ]);
  assert.equal(names.size, 3);
});
