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
    assert.deepEqual(listed.filter((m) => m.id.includes("/")), [
      { id: "someone/tiny-llama", displayName: "someone/tiny-llama", availableLocally: true },
    ]);
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
    ["llama-3.2-1bb", /not found; did you mean llama-3\.2-1b/],
    ["qwen-3-8", /did you mean qwen-3-8b/],
    ["gpt-4o", /Model "gpt-4o" not found$/],
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
