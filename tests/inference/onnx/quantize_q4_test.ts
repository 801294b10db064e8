import assert from "node:assert/strict";
import { GraphBuilder, MS_DOMAIN } from "../../../lib/inference/onnx/graph_builder.ts";
import { ort } from "../../../lib/inference/onnx/ort_runtime.ts";
import {
  dequantizeQ4,
  Q4_BLOCK_SIZE,
  quantizeQ4,
} from "../../../lib/inference/onnx/quantize_q4.ts";
import { bytesOf } from "../../../lib/inference/onnx/weight_layout.ts";

function randomMatrix(n: number, k: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * k }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.3);
}

for (const [block, k, blocks] of [[32, 70, 3], [Q4_BLOCK_SIZE, 300, 3]]) {
  Deno.test(`quantizeQ4 in blocks of ${block} round-trips every value within half a step of its block`, () => {
    const n = 5; // k not a multiple of the block: the last block is padded
    const w = randomMatrix(n, k, 1);
    w[3] = 0;
    const q = quantizeQ4(w, n, k, block);
    assert.equal(q.blocksPerRow, blocks);
    const back = dequantizeQ4(q);
    for (let i = 0; i < w.length; i++) {
      const row = Math.floor(i / k);
      const scale = q.scales[row * q.blocksPerRow + Math.floor((i % k) / block)];
      assert.ok(Math.abs(back[i] - w[i]) <= scale / 2 + 1e-7, `value ${i}`);
    }
    assert.equal(back[3], 0, "zero stays exact");
  });
}

Deno.test("quantizeQ4 refuses a block size MatMulNBits cannot take", () => {
  assert.throws(() => quantizeQ4(new Float32Array(48), 1, 48, 48), /block size 48/);
  assert.throws(() => quantizeQ4(new Float32Array(8), 1, 8, 8), /block size 8/);
});

Deno.test("quantizeQ4 keeps a constant block exact", () => {
  const q = quantizeQ4(new Float32Array(32).fill(0), 1, 32);
  assert.deepEqual([...dequantizeQ4(q)], new Array(32).fill(0));
});

// k = 96 in blocks of 128 leaves the only block short, as smollm2's 576 leaves its last.
for (const [block, k] of [[32, 96], [Q4_BLOCK_SIZE, 96], [Q4_BLOCK_SIZE, 320]]) {
  Deno.test(`MatMulNBits in ORT reads quantizeQ4's layout in blocks of ${block} (k ${k}) as dequantizeQ4 does`, async () => {
    const n = 48, rows = 3;
    const q = quantizeQ4(randomMatrix(n, k, 2), n, k, block);
    const dir = await Deno.makeTempDir();
    try {
      const b = new GraphBuilder(`${dir}/m.onnx.data`);
      b.input("x", "float32", [rows, k]);
      const int = (value: number) => ({ kind: "int", value }) as const;
      b.node("MatMulNBits", [
        "x",
        b.initializer("w", "uint8", [n, q.blocksPerRow, block / 2], q.packed),
        b.initializer("scales", "float32", [q.scales.length], bytesOf(q.scales)),
        b.initializer("zp", "uint8", [q.zeroPoints.length], q.zeroPoints),
      ], {
        outputs: ["y"],
        domain: MS_DOMAIN,
        // Level 0 computes in float32, so the result must match the dequantized product.
        attributes: {
          K: int(k),
          N: int(n),
          bits: int(4),
          block_size: int(block),
          accuracy_level: int(0),
        },
      });
      b.output("y", "float32", [rows, n]);
      b.writeModel(`${dir}/m.onnx`, "test");
      const session = await ort.InferenceSession.create(`${dir}/m.onnx`);
      try {
        const x = randomMatrix(rows, k, 3);
        const { y } = await session.run({ x: new ort.Tensor("float32", x, [rows, k]) });
        const w = dequantizeQ4(q); // [n, k]
        const got = y.data as Float32Array;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < n; c++) {
            let want = 0;
            for (let i = 0; i < k; i++) want += x[r * k + i] * w[c * k + i];
            assert.ok(
              Math.abs(got[r * n + c] - want) < 1e-4,
              `y[${r},${c}] ${got[r * n + c]} vs ${want}`,
            );
          }
        }
      } finally {
        await session.release();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
