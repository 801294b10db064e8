import assert from "node:assert/strict";
import { CheckpointError } from "../../lib/model/checkpoint_error.ts";
import { SafetensorsFile } from "../../lib/model/safetensors_file.ts";
import {
  encodeFloats,
  encodeHeader,
  type FloatDType,
  type TensorSource,
  writeSafetensorsFile,
} from "../fixtures/safetensors_writer.ts";
import { SeededRandom } from "../fixtures/seeded_random.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";

const SPECIAL_VALUES = [0, -0, 1, -2, 0.1, 1e-6, 65504, 3.0e38, -1e-40, Infinity, -Infinity];

function tensorOf(name: string, dtype: FloatDType, values: Float32Array, shape: number[]) {
  return {
    name,
    dtype,
    shape,
    fill(out: Float32Array, start: number) {
      out.set(values.subarray(start, start + out.length));
    },
  } satisfies TensorSource;
}

function randomValues(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  new SeededRandom(seed).fillUniform(values, 0, 3);
  values.set(SPECIAL_VALUES.slice(0, Math.min(count, SPECIAL_VALUES.length)));
  return values;
}

/** What `dtype` can represent of `values`, decoded independently of the reader. */
function roundTripped(values: Float32Array, dtype: FloatDType): Float32Array {
  switch (dtype) {
    case "F32":
      return values;
    case "F16":
      return Float32Array.from(new Float16Array(values));
    case "BF16": {
      const words = new Uint16Array(encodeFloats(values, "BF16").buffer);
      const view = new DataView(new ArrayBuffer(4));
      return Float32Array.from(words, (word) => {
        view.setUint32(0, word << 16);
        return view.getFloat32(0);
      });
    }
  }
}

async function writeRaw(path: string, headerJson: unknown, dataSize: number): Promise<void> {
  const json = new TextEncoder().encode(JSON.stringify(headerJson));
  const bytes = new Uint8Array(8 + json.length + dataSize);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  await Deno.writeFile(path, bytes);
}

async function assertOpenFails(path: string, fragment: string): Promise<void> {
  await assert.rejects(SafetensorsFile.open(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${error}`);
    assert.ok(error.message.startsWith(`Cannot read safetensors file ${path}: `), error.message);
    assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  });
}

for (const dtype of ["F32", "F16", "BF16"] as const) {
  Deno.test(`SafetensorsFile reads back ${dtype} tensors the writer wrote`, async () => {
    await withTempDir(async (dir) => {
      const a = randomValues(6 * 7, 1);
      const b = randomValues(3, 2);
      const path = `${dir}/model.safetensors`;
      await writeSafetensorsFile(path, [
        tensorOf("layer.a", dtype, a, [6, 7]),
        tensorOf("layer.b", dtype, b, [3]),
        tensorOf("empty", dtype, new Float32Array(0), [0, 4]),
      ]);
      const file = await SafetensorsFile.open(path);
      try {
        assert.deepEqual(file.metadata, { format: "pt" });
        assert.deepEqual([...file.tensors().keys()], ["layer.a", "layer.b", "empty"]);
        assert.deepEqual(file.info("layer.a").shape, [6, 7]);
        assert.equal(file.info("layer.a").dtype, dtype);
        assert.deepEqual(await file.readFloat32("layer.a"), roundTripped(a, dtype));
        assert.deepEqual(await file.readFloat32("layer.b"), roundTripped(b, dtype));
        assert.deepEqual(await file.readRaw("layer.b"), encodeFloats(b.slice(), dtype));
        assert.equal((await file.readFloat32("empty")).length, 0);
      } finally {
        file.close();
      }
    });
  });
}

Deno.test("SafetensorsFile serves concurrent reads each with its own tensor", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    const values = Array.from({ length: 8 }, (_, i) => randomValues(100 + i, i + 10));
    await writeSafetensorsFile(path, values.map((v, i) => tensorOf(`t${i}`, "F32", v, [v.length])));
    const file = await SafetensorsFile.open(path);
    try {
      const reads = await Promise.all(values.map((_, i) => file.readFloat32(`t${i}`)));
      reads.forEach((read, i) => assert.deepEqual(read, values[i]));
    } finally {
      file.close();
    }
  });
});

Deno.test("SafetensorsFile refuses a file truncated inside the data", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await writeSafetensorsFile(path, [tensorOf("w", "F32", randomValues(64, 1), [8, 8])]);
    const size = (await Deno.stat(path)).size;
    await Deno.truncate(path, size - 10);
    await assertOpenFails(path, "tensor w data_offsets [0, 256] exceed data size 246");
  });
});

Deno.test("SafetensorsFile reports a file cut short after it was opened", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await writeSafetensorsFile(path, [tensorOf("w", "F32", randomValues(64, 1), [8, 8])]);
    const file = await SafetensorsFile.open(path);
    try {
      await Deno.truncate(path, (await Deno.stat(path)).size - 10);
      await assert.rejects(file.readRaw("w"), (error: unknown) => {
        assert.ok(error instanceof CheckpointError);
        assert.match(error.message, /tensor w is cut short: file ended after 246 of 256 bytes/);
        return true;
      });
    } finally {
      file.close();
    }
  });
});

Deno.test("SafetensorsFile refuses a header length beyond the file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    await Deno.writeFile(path, bytes);
    await assertOpenFails(path, "header length 1000 exceeds the 56 bytes after the length prefix");
  });
});

Deno.test("SafetensorsFile refuses a file shorter than the length prefix", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await Deno.writeFile(path, new Uint8Array(5));
    await assertOpenFails(path, "file is 5 bytes, shorter than the 8-byte header length");
  });
});

Deno.test("SafetensorsFile refuses a header that is not JSON", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    const bytes = new Uint8Array(8 + 12);
    new DataView(bytes.buffer).setBigUint64(0, 12n, true);
    bytes.set(new TextEncoder().encode("{'w': oops}!"), 8);
    await Deno.writeFile(path, bytes);
    await assertOpenFails(path, "header is not valid JSON");
  });
});

Deno.test("SafetensorsFile refuses out-of-range offsets and unknown dtypes", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await writeRaw(path, { w: { dtype: "F32", shape: [4], data_offsets: [8, 24] } }, 16);
    await assertOpenFails(path, "tensor w data_offsets [8, 24] exceed data size 16");
    await writeRaw(path, { w: { dtype: "F4", shape: [4], data_offsets: [0, 2] } }, 16);
    await assertOpenFails(path, 'tensor w has unknown dtype "F4"');
  });
});

Deno.test("SafetensorsFile reads integer tensors raw but refuses them as float32", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    const json = new TextEncoder().encode(
      JSON.stringify({ ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }),
    );
    const bytes = new Uint8Array(8 + json.length + 16);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    view.setBigInt64(8 + json.length, 7n, true);
    view.setBigInt64(16 + json.length, -1n, true);
    await Deno.writeFile(path, bytes);
    const file = await SafetensorsFile.open(path);
    try {
      const raw = await file.readRaw("ids");
      assert.deepEqual([...new BigInt64Array(raw.buffer)], [7n, -1n]);
      await assert.rejects(
        file.readFloat32("ids"),
        (error: unknown) =>
          error instanceof CheckpointError &&
          error.message ===
            `Cannot read safetensors file ${path}: tensor ids has dtype I64, which does not convert to float32`,
      );
    } finally {
      file.close();
    }
  });
});

Deno.test("SafetensorsFile names a tensor it does not hold", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await Deno.writeFile(path, encodeHeader([]));
    const file = await SafetensorsFile.open(path);
    try {
      assert.equal(file.has("model.norm.weight"), false);
      await assert.rejects(
        file.readFloat32("model.norm.weight"),
        new CheckpointError(
          `Cannot read safetensors file ${path}: tensor model.norm.weight is not in the file`,
        ),
      );
    } finally {
      file.close();
    }
  });
});

Deno.test("SafetensorsFile refuses reads after close and closes once", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await writeSafetensorsFile(path, [tensorOf("w", "F32", randomValues(4, 1), [4])]);
    const file = await SafetensorsFile.open(path);
    const pending = file.readFloat32("w");
    file.close();
    file.close();
    assert.equal((await pending).length, 4);
    await assert.rejects(file.readRaw("w"), TypeError);
  });
});

Deno.test("SafetensorsFile.open passes on a missing file's NotFound", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(SafetensorsFile.open(`${dir}/absent.safetensors`), Deno.errors.NotFound);
  });
});

Deno.test("SafetensorsFile widens half-precision tensors larger than one read chunk", async () => {
  await withTempDir(async (dir) => {
    const values = randomValues(2_500_001, 3); // 5 MB as 16-bit floats: two 4 MiB chunks
    const path = `${dir}/model.safetensors`;
    await writeSafetensorsFile(path, [
      tensorOf("half", "F16", values, [values.length]),
      tensorOf("brain", "BF16", values, [values.length]),
    ]);
    const file = await SafetensorsFile.open(path);
    try {
      assert.deepEqual(await file.readFloat32("half"), roundTripped(values, "F16"));
      assert.deepEqual(await file.readFloat32("brain"), roundTripped(values, "BF16"));
    } finally {
      file.close();
    }
  });
});
