import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { isValidNodeId, NODE_ID_FILE, resolveNodeId } from "../../lib/cli/mod.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";

async function namesIn(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

Deno.test("resolveNodeId prefers --node-id and writes nothing", async () => {
  await withTempDir(async (dir) => {
    equal(await resolveNodeId({ nodeId: "mac1", stateDir: dir }), "mac1");
    deepStrictEqual(await namesIn(dir), []);
  });
});

Deno.test("resolveNodeId makes an id, saves it in a new state dir and reuses it", async () => {
  await withTempDir(async (dir) => {
    const stateDir = join(dir, "nested", ".exo-node");
    const first = await resolveNodeId({ stateDir });
    ok(isValidNodeId(first));
    equal(await Deno.readTextFile(join(stateDir, NODE_ID_FILE)), `${first}\n`);
    equal(await resolveNodeId({ stateDir }), first);
    deepStrictEqual(await namesIn(stateDir), [NODE_ID_FILE]);
  });
});

Deno.test("resolveNodeId reads a hand-written id with surrounding blanks", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, NODE_ID_FILE), "  studio-mac\n\n");
    equal(await resolveNodeId({ stateDir: dir }), "studio-mac");
  });
});

Deno.test("resolveNodeId gives every concurrent start the same saved id", async () => {
  await withTempDir(async (dir) => {
    const ids = await Promise.all(
      Array.from({ length: 8 }, () => resolveNodeId({ stateDir: dir })),
    );
    const saved = (await Deno.readTextFile(join(dir, NODE_ID_FILE))).trim();
    deepStrictEqual(ids, ids.map(() => saved));
    deepStrictEqual(await namesIn(dir), [NODE_ID_FILE]);
  });
});

Deno.test("resolveNodeId rejects a file holding an invalid id, naming the file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, NODE_ID_FILE);
    await Deno.writeTextFile(path, "not an id\n");
    await rejects(resolveNodeId({ stateDir: dir }), {
      name: "Error",
      message: `Cannot use node id file ${path}: "not an id" is not a valid node id ` +
        "(1-64 characters of A-Z a-z 0-9 . _ -); fix or delete the file",
    });
  });
});

Deno.test("resolveNodeId rejects an empty id file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, NODE_ID_FILE), "");
    await rejects(resolveNodeId({ stateDir: dir }), /Cannot use node id file .*node_id: "" is not/);
  });
});

Deno.test("resolveNodeId reports a state dir under a plain file, naming the id file", async () => {
  await withTempDir(async (dir) => {
    const blocker = join(dir, "file");
    await Deno.writeTextFile(blocker, "");
    const path = join(blocker, "state", NODE_ID_FILE);
    await rejects(resolveNodeId({ stateDir: join(blocker, "state") }), (error: Error) => {
      ok(error.message.startsWith(`Cannot read node id file ${path}: `), error.message);
      return true;
    });
  });
});

Deno.test("resolveNodeId rejects an invalid --node-id given directly", async () => {
  await rejects(resolveNodeId({ nodeId: "a b", stateDir: "/nonexistent" }), TypeError);
});
