import assert from "node:assert/strict";
import { buildStagedDir, pathExists } from "../../lib/fs/staged_dir.ts";

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("buildStagedDir renames a finished build into place with its marker", async () => {
  const root = await Deno.makeTempDir();
  try {
    await buildStagedDir(`${root}/cache/a`, "done", "yes", async (staging) => {
      await Deno.writeTextFile(`${staging}/file`, "x");
    });
    assert.deepEqual(await entries(`${root}/cache`), ["a"]);
    assert.deepEqual(await entries(`${root}/cache/a`), ["done", "file"]);
    assert.equal(await Deno.readTextFile(`${root}/cache/a/done`), "yes");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildStagedDir leaves nothing behind when the build fails", async () => {
  const root = await Deno.makeTempDir();
  try {
    await assert.rejects(
      buildStagedDir(`${root}/a`, "done", "", async (staging) => {
        await Deno.writeTextFile(`${staging}/half`, "x");
        throw new Error("disk full");
      }),
      /disk full/,
    );
    assert.deepEqual(await entries(root), []);
    assert.equal(await pathExists(`${root}/a`), false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildStagedDir keeps the copy of a process that finished first", async () => {
  const root = await Deno.makeTempDir();
  try {
    await buildStagedDir(`${root}/a`, "done", "ours", async () => {
      // Another process completes the same directory while this one builds.
      await Deno.mkdir(`${root}/a`);
      await Deno.writeTextFile(`${root}/a/file`, "theirs");
      await Deno.writeTextFile(`${root}/a/done`, "theirs");
    });
    assert.deepEqual(await entries(root), ["a"]);
    assert.equal(await Deno.readTextFile(`${root}/a/done`), "theirs");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
