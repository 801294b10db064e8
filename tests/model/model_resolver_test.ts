import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { ModelNotFoundError } from "../../lib/model/model_not_found_error.ts";
import { hubCacheDir } from "../../lib/model/hub_cache.ts";

async function modelDir(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "config.json"), "{}");
  return dir;
}

/** Writes a repo snapshot the way huggingface_hub lays out its cache. */
async function hubSnapshot(hub: string, repo: string, revision: string): Promise<string> {
  const folder = join(hub, `models--${repo.replace("/", "--")}`);
  await Deno.mkdir(join(folder, "refs"), { recursive: true });
  await Deno.writeTextFile(join(folder, "refs", "main"), revision);
  return await modelDir(join(folder, "snapshots", revision));
}

Deno.test("ModelResolver finds registry models and hub repos in the hub cache layout", async () => {
  const root = await Deno.makeTempDir();
  try {
    const hub = join(root, "hub");
    const snapshot = await hubSnapshot(hub, "unsloth/Llama-3.2-1B-Instruct", "abc123");
    const resolver = new ModelResolver({ hubCache: hub });
    assert.deepEqual(await resolver.resolve("llama-3.2-1b"), {
      id: "llama-3.2-1b",
      displayName: "Llama 3.2 1B",
      dir: snapshot,
    });
    // The repo id of a registry model resolves to the registry id.
    assert.equal((await resolver.resolve("unsloth/Llama-3.2-1B-Instruct")).id, "llama-3.2-1b");
    const other = await hubSnapshot(hub, "someone/tiny-llama", "def456");
    assert.deepEqual(await resolver.resolve("someone/tiny-llama"), {
      id: "someone/tiny-llama",
      displayName: "someone/tiny-llama",
      dir: other,
    });
    const listed = await resolver.list();
    assert.equal(listed.find((m) => m.id === "llama-3.2-1b")?.availableLocally, true);
    assert.equal(listed.find((m) => m.id === "qwen-2.5-7b")?.availableLocally, false);
    // Hub repos outside the registry are listed when they hold a model, once.
    assert.deepEqual(listed.filter((m) => m.id.includes("/")), [{
      id: "someone/tiny-llama",
      displayName: "someone/tiny-llama",
      availableLocally: true,
      localBytes: 2 + "def456".length,
    }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ModelResolver takes local directories and seeded models", async () => {
  const root = await Deno.makeTempDir();
  try {
    const local = await modelDir(join(root, "my-model"));
    const resolver = new ModelResolver({
      hubCache: join(root, "hub"),
      seedDir: join(root, "seed"),
    });
    assert.equal((await resolver.resolve(local)).dir, local);
    assert.equal((await resolver.resolve(local + "/")).id, local);
    const seeded = await modelDir(join(root, "seed", "smollm2-135m"));
    assert.equal((await resolver.resolve("smollm2-135m")).dir, seeded);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ModelResolver says what is wrong with a name it cannot resolve", async (t) => {
  const root = await Deno.makeTempDir();
  const resolver = new ModelResolver({ hubCache: join(root, "hub") });
  const cases: [string, RegExp][] = [
    ["llama-3.2-1bb", /not found: it is not a registry id.*; did you mean llama-3\.2-1b/],
    ["qwen-3-8", /did you mean qwen-3-8b/],
    [
      "gpt-4o",
      /^Model "gpt-4o" not found: it is not a registry id, a hub repo \(org\/name\) or a model directory$/,
    ],
    ["", /the name is empty/],
    ["./no-such-dir", /is not a directory with a config\.json/],
    [
      "llama-3.2-1b",
      /known \(unsloth\/Llama-3\.2-1B-Instruct\) but not downloaded on this node; looked in .*models--unsloth--Llama-3\.2-1B-Instruct/,
    ],
    ["nobody/nothing", /not in the registry and not downloaded on this node/],
  ];
  try {
    for (const [name, pattern] of cases) {
      await t.step(name || "an empty name", async () => {
        await assert.rejects(resolver.resolve(name), (error: Error) => {
          assert.ok(error instanceof ModelNotFoundError);
          assert.match(error.message, pattern);
          return true;
        });
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hubCacheDir follows HF_HUB_CACHE, then HF_HOME, then the home directory", () => {
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  assert.equal(hubCacheDir(env({ HF_HUB_CACHE: "/c", HF_HOME: "/h", HOME: "/u" })), "/c");
  assert.equal(hubCacheDir(env({ HF_HOME: "/h", HOME: "/u" })), "/h/hub");
  assert.equal(hubCacheDir(env({ HOME: "/u" })), "/u/.cache/huggingface/hub");
});

/**
 * Writes a repo the way the hub's tools do: content in `blobs/<etag>`, snapshot files as
 * relative symlinks to them. Two commits share the config blob; one blob is half-fetched.
 */
async function linkedRepo(hub: string, repo: string): Promise<number> {
  const folder = join(hub, `models--${repo.replace("/", "--")}`);
  await Deno.mkdir(join(folder, "blobs"), { recursive: true });
  const blobs: Record<string, string> = {
    "c0nf1g": '{"model_type":"llama"}',
    "we1ght5": "x".repeat(5000),
    "we1ght5-2.incomplete": "y".repeat(700),
  };
  for (const [etag, text] of Object.entries(blobs)) {
    await Deno.writeTextFile(join(folder, "blobs", etag), text);
  }
  for (
    const [commit, files] of [["aaa111", ["config.json", "model.safetensors"]], [
      "bbb222",
      ["config.json"],
    ]] as const
  ) {
    const dir = join(folder, "snapshots", commit);
    await Deno.mkdir(dir, { recursive: true });
    for (const file of files) {
      const etag = file === "config.json" ? "c0nf1g" : "we1ght5";
      await Deno.symlink(join("..", "..", "blobs", etag), join(dir, file));
    }
  }
  await Deno.mkdir(join(folder, "refs"));
  await Deno.writeTextFile(join(folder, "refs", "main"), "aaa111");
  // A hard link is the same bytes on disk: counted once.
  await Deno.link(join(folder, "blobs", "we1ght5"), join(folder, "blobs", "we1ght5-link"));
  return Object.values(blobs).reduce((sum, text) => sum + text.length, 0) + "aaa111".length;
}

Deno.test("ModelResolver lists the bytes of each hub cache folder, blobs once and symlinks not at all", async () => {
  const root = await Deno.makeTempDir();
  try {
    const hub = join(root, "hub");
    const registryBytes = await linkedRepo(hub, "unsloth/Llama-3.2-1B-Instruct");
    const otherBytes = await linkedRepo(hub, "someone/tiny-llama");
    assert.equal(registryBytes, 22 + 5000 + 700 + 6);
    await modelDir(join(root, "seed", "smollm2-135m"));
    const local = await modelDir(join(root, "my-model"));
    const resolver = new ModelResolver({ hubCache: hub, seedDir: join(root, "seed") });

    const listed = await resolver.list();
    const byId = (id: string) => listed.find((m) => m.id === id);
    assert.equal(byId("llama-3.2-1b")?.localBytes, registryBytes);
    assert.equal(byId("someone/tiny-llama")?.localBytes, otherBytes);
    // A seeded copy is available but not what DELETE removes; an absent model has no folder.
    assert.deepEqual(
      [byId("smollm2-135m")?.availableLocally, byId("smollm2-135m")?.localBytes],
      [true, null],
    );
    assert.deepEqual(
      [byId("qwen-2.5-7b")?.availableLocally, byId("qwen-2.5-7b")?.localBytes],
      [false, null],
    );

    // describe names a model as list does, for names list does not show, never fetching.
    assert.deepEqual(await resolver.describe("unsloth/Llama-3.2-1B-Instruct"), {
      id: "llama-3.2-1b",
      displayName: "Llama 3.2 1B",
      availableLocally: true,
      localBytes: registryBytes,
    });
    assert.deepEqual(await resolver.describe(local), {
      id: local,
      displayName: "my-model",
      availableLocally: true,
      localBytes: null,
    });
    assert.deepEqual(await resolver.describe("nobody/nothing"), {
      id: "nobody/nothing",
      displayName: "nobody/nothing",
      availableLocally: false,
      localBytes: null,
    });
    assert.equal(await resolver.findLocal("nobody/nothing"), null);
    assert.equal(
      (await resolver.findLocal("someone/tiny-llama"))?.dir,
      join(hub, "models--someone--tiny-llama", "snapshots", "aaa111"),
    );

    // Removing frees exactly what was listed.
    assert.equal(await resolver.remove("llama-3.2-1b"), registryBytes);
    assert.equal(await resolver.remove("llama-3.2-1b"), null);
    assert.equal((await resolver.describe("llama-3.2-1b")).localBytes, null);
    assert.equal(await resolver.remove("smollm2-135m"), null, "the seed dir is left alone");
    assert.equal((await resolver.describe("smollm2-135m")).availableLocally, true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
