import assert from "node:assert/strict";
import { CheckpointError } from "../../lib/model/checkpoint_error.ts";
import { CheckpointReader } from "../../lib/model/checkpoint_reader.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";

async function withReader(
  dir: string,
  fn: (reader: CheckpointReader) => void | Promise<void>,
) {
  const reader = await CheckpointReader.open(dir);
  try {
    await fn(reader);
  } finally {
    reader.close();
  }
}

function isCheckpointError(fragment: string) {
  return (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${error}`);
    assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  };
}

const SMALL = { architecture: "qwen2", numLayers: 2, dtype: "BF16" } as const;

Deno.test("CheckpointReader reads the same tensors from one file and from shards", async () => {
  await withTempDir(async (root) => {
    await writeRandomCheckpoint(`${root}/single`, SMALL);
    const sharded = await writeRandomCheckpoint(`${root}/sharded`, { ...SMALL, shards: 3 });
    assert.equal(sharded.files.length, 3);
    await withReader(`${root}/single`, async (single) => {
      await withReader(`${root}/sharded`, async (shards) => {
        assert.deepEqual(shards.names().sort(), single.names().sort());
        for (const name of single.names()) {
          const [fromShards, fromSingle] = [await shards.info(name), await single.info(name)];
          assert.deepEqual([fromShards.dtype, fromShards.shape], [
            fromSingle.dtype,
            fromSingle.shape,
          ]);
          assert.deepEqual(await shards.readFloat32(name), await single.readFloat32(name));
        }
      });
    });
  });
});

Deno.test("CheckpointReader.filesFor lists each shard holding the tensors once, sorted", async () => {
  await withTempDir(async (dir) => {
    const { files } = await writeRandomCheckpoint(dir, { ...SMALL, shards: 3 });
    await withReader(dir, (reader) => {
      assert.deepEqual(reader.filesFor(reader.names()), files);
      assert.deepEqual(reader.filesFor(["model.embed_tokens.weight"]), [files[0]]);
      assert.deepEqual(reader.filesFor(["lm_head.weight", "model.embed_tokens.weight"]), [
        files[0],
        files[2],
      ]);
      assert.throws(
        () => reader.filesFor(["model.norm.weight", "model.layers.9.mlp.up_proj.weight"]),
        isCheckpointError(
          `Cannot read checkpoint ${dir}: tensor model.layers.9.mlp.up_proj.weight is missing`,
        ),
      );
    });
  });
});

Deno.test("CheckpointReader answers filesFor from the index before the shards exist", async () => {
  await withTempDir(async (dir) => {
    const { files } = await writeRandomCheckpoint(dir, { ...SMALL, shards: 2 });
    await Deno.remove(`${dir}/${files[1]}`);
    await withReader(dir, async (reader) => {
      assert.deepEqual(reader.filesFor(["model.norm.weight"]), [files[1]]);
      assert.equal((await reader.readFloat32("model.embed_tokens.weight")).length, 384 * 64);
      await assert.rejects(
        reader.readFloat32("model.norm.weight"),
        isCheckpointError(`tensor model.norm.weight is in ${files[1]}, which is missing`),
      );
    });
  });
});

Deno.test("CheckpointReader refuses an index entry whose shard lacks the tensor", async () => {
  await withTempDir(async (dir) => {
    const { files } = await writeRandomCheckpoint(dir, { ...SMALL, shards: 2 });
    const indexPath = `${dir}/model.safetensors.index.json`;
    const index = JSON.parse(await Deno.readTextFile(indexPath));
    index.weight_map["model.norm.weight"] = files[0];
    await Deno.writeTextFile(indexPath, JSON.stringify(index));
    await withReader(dir, async (reader) => {
      await assert.rejects(
        reader.info("model.norm.weight"),
        isCheckpointError(
          `tensor model.norm.weight is mapped to ${files[0]}, which does not hold it`,
        ),
      );
    });
  });
});

Deno.test("CheckpointReader refuses an index pointing outside the model directory", async () => {
  await withTempDir(async (dir) => {
    const indexPath = `${dir}/model.safetensors.index.json`;
    for (const file of ["../secret.safetensors", "/etc/passwd", "sub/x.safetensors", ".."]) {
      await Deno.writeTextFile(indexPath, JSON.stringify({ weight_map: { w: file } }));
      await assert.rejects(
        CheckpointReader.open(dir),
        isCheckpointError(`weight_map entry w points outside the model directory: ${file}`),
      );
    }
  });
});

Deno.test("CheckpointReader refuses a malformed index", async () => {
  await withTempDir(async (dir) => {
    const indexPath = `${dir}/model.safetensors.index.json`;
    const cases: [string, string][] = [
      ["{ oops", `Cannot read safetensors index ${indexPath}: `],
      ["[]", "index is not a JSON object"],
      ['{"metadata": {}}', "weight_map is missing or not an object"],
      ['{"weight_map": {"w": 3}}', "weight_map entry w is not a file name: 3"],
    ];
    for (const [text, fragment] of cases) {
      await Deno.writeTextFile(indexPath, text);
      await assert.rejects(CheckpointReader.open(dir), isCheckpointError(fragment));
    }
  });
});

Deno.test("CheckpointReader refuses a directory without safetensors", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      CheckpointReader.open(dir),
      isCheckpointError(
        `Cannot open checkpoint ${dir}: found neither model.safetensors nor model.safetensors.index.json`,
      ),
    );
  });
});

Deno.test("CheckpointReader refuses reads after close", async () => {
  await withTempDir(async (dir) => {
    await writeRandomCheckpoint(dir, { ...SMALL, shards: 2 });
    const reader = await CheckpointReader.open(dir);
    await reader.readFloat32("model.embed_tokens.weight");
    reader.close();
    await assert.rejects(reader.readFloat32("model.norm.weight"), TypeError);
  });
});
