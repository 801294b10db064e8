// Deno prints an "Ignored build scripts for packages: npm:onnxruntime-node" box when
// `deno task start` installs onnxruntime-node into its cache (a fresh machine, the first
// start after an upgrade): the package's postinstall only fetches CUDA libraries, which
// this project does not use, and deno.json denies it to keep the start quiet. The test
// starts from a Deno cache that has every package but onnxruntime-node (hard links to the
// real cache, so only that one is fetched from npm), which is when the box would show.
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

/** A Deno cache dir holding hard links to every cached npm package but onnxruntime-node. */
async function cacheWithoutOnnxRuntime(dir: string): Promise<string> {
  const registry = join(await npmCacheDir(), "registry.npmjs.org");
  const target = join(dir, "deno", "npm", "registry.npmjs.org");
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(registry)) {
    if (entry.name === "onnxruntime-node") continue;
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
    const denoDir = await cacheWithoutOnnxRuntime(dir);
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
