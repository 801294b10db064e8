// The real `denort` runtime cannot be downloaded here, so these tests build with
// `scripts/compile.sh --dry-run`: a stand-in runtime file of the target's format, a real
// module graph and a real embedded file system. The printed "Embedded Files" tree folds
// whole directories into `dir/*`, so the exact file list is read from the VFS table that
// `deno compile` writes into the output.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const script = fileURLToPath(new URL("../scripts/compile.sh", import.meta.url));

/** What `deno compile` (2.9) embeds after its `d3n0l4nd` marker. */
interface Embedded {
  metadata: {
    entrypoint_key: string;
    self_extracting: string | null;
    permissions: Record<string, unknown>;
    unstable_config?: { features?: string[] };
  };
  files: string[];
}

type VfsEntry =
  | { Dir: { n: string; e: VfsEntry[] } }
  | { File: { n: string } }
  | { Symlink: { n: string } };

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  for (
    let i = haystack.indexOf(needle[0], from);
    i !== -1;
    i = haystack.indexOf(needle[0], i + 1)
  ) {
    if (needle.every((byte, k) => haystack[i + k] === byte)) return i;
  }
  return -1;
}

/** Parses the JSON that starts at `start` if the u64 before it is its length. */
function lengthPrefixedJson(binary: Uint8Array, start: number): unknown {
  if (start < 8) return undefined;
  const length = new DataView(binary.buffer, binary.byteOffset).getBigUint64(start - 8, true);
  if (length > BigInt(binary.length - start)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(binary.subarray(start, start + Number(length))));
  } catch {
    return undefined;
  }
}

function listFiles(entries: VfsEntry[], prefix: string): string[] {
  return entries.flatMap((entry) => {
    if ("Dir" in entry) return listFiles(entry.Dir.e, `${prefix}${entry.Dir.n}/`);
    return [`${prefix}${"File" in entry ? entry.File.n : entry.Symlink.n}`];
  });
}

function readEmbedded(binary: Uint8Array): Embedded {
  const encoder = new TextEncoder();
  const marker = encoder.encode("d3n0l4nd");
  let metadata: Embedded["metadata"] | undefined;
  let at = 0;
  for (let i = indexOfBytes(binary, marker, 0); i !== -1; i = indexOfBytes(binary, marker, i + 1)) {
    metadata = lengthPrefixedJson(binary, i + 16) as Embedded["metadata"] | undefined;
    if (metadata !== undefined) {
      at = i + 16;
      break;
    }
  }
  assert.ok(metadata, "Cannot find the compile metadata in the output");
  // The VFS table follows the metadata and the npm snapshot: a length-prefixed JSON array.
  const arrayStart = encoder.encode('[{"');
  for (
    let i = indexOfBytes(binary, arrayStart, at);
    i !== -1;
    i = indexOfBytes(binary, arrayStart, i + 1)
  ) {
    const vfs = lengthPrefixedJson(binary, i);
    if (Array.isArray(vfs)) return { metadata, files: listFiles(vfs as VfsEntry[], "") };
  }
  throw new Error("Cannot find the embedded file table in the output");
}

const ortBinaries = /onnxruntime-node\/[^/]+\/bin\/napi-v\d+\/([^/]+\/[^/]+)\/([^/]+)$/;

function ortBinariesOf(files: string[]): { platform: string; name: string }[] {
  return files.flatMap((file) => {
    const match = ortBinaries.exec(file);
    return match ? [{ platform: match[1], name: match[2] }] : [];
  });
}

Deno.test("compile.sh dry run for aarch64-apple-darwin embeds only what a Mac needs", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "exo-compile-test-" });
  try {
    const output = `${dir}/exo-node`;
    // --no-check: type checking is `deno check`'s job; this also shows extra args pass through.
    const args = [script, "--dry-run", "--target", "aarch64-apple-darwin", "--output", output];
    const result = await new Deno.Command("bash", {
      args: [...args, "--no-check"],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `compile.sh failed:\n${log}`);

    const binary = await Deno.readFile(output);
    const { metadata, files } = readEmbedded(binary);
    const ort = ortBinariesOf(files);

    await t.step("prints the embedded file listing with the entry module", () => {
      assert.match(log, /Embedded Files/);
      assert.match(log, /main\.ts/);
    });

    await t.step("embeds the entry module main.ts", () => {
      assert.match(metadata.entrypoint_key, /(^|\/)main\.ts$/);
      assert.ok(files.includes(metadata.entrypoint_key), `${metadata.entrypoint_key} missing`);
    });

    await t.step("embeds the shard build worker, which no import reaches", () => {
      assert.ok(
        files.some((f) => f.endsWith("lib/inference/onnx/shard_build_worker.ts")),
        "shard_build_worker.ts missing",
      );
    });

    await t.step("embeds the darwin arm64 addon and the libonnxruntime dylib it links", () => {
      const darwin = ort.filter((b) => b.platform === "darwin/arm64").map((b) => b.name);
      assert.ok(darwin.includes("onnxruntime_binding.node"), `darwin/arm64 has ${darwin}`);
      // onnxruntime-node 1.30's addon loads @rpath/libonnxruntime.1.dylib.
      assert.ok(darwin.includes("libonnxruntime.1.dylib"), `darwin/arm64 has ${darwin}`);
    });

    await t.step("embeds no linux, win32 or x64 onnxruntime binaries", () => {
      const others = ort.filter((b) => b.platform !== "darwin/arm64");
      assert.deepEqual(others, []);
      const foreign = files.filter((f) =>
        /\.(so(\.\d+)*|dll)$/.test(f) && f.includes("onnxruntime")
      );
      assert.deepEqual(foreign, []);
    });

    await t.step("embeds the 45 MB dylib once, not also as its versioned duplicate", () => {
      const dylibs = ort.filter((b) => b.name.endsWith(".dylib")).map((b) => b.name);
      assert.deepEqual(dylibs, ["libonnxruntime.1.dylib"]);
    });

    await t.step("bakes in the seven granted permissions, not --allow-all", () => {
      const granted = ["net", "read", "write", "env", "sys", "ffi", "run"];
      for (const name of granted) {
        assert.deepEqual(metadata.permissions[`allow_${name}`], [], `allow_${name}`);
      }
      assert.ok(!metadata.permissions["allow_all"], "allow_all must not be set");
    });

    await t.step("enables the unstable net API that UDP discovery's sockets need", () => {
      assert.ok(
        metadata.unstable_config?.features?.includes("net"),
        JSON.stringify(metadata.unstable_config),
      );
    });

    await t.step("is self-extracting so the dylib lands beside the addon", () => {
      assert.equal(typeof metadata.self_extracting, "string");
    });

    await t.step("embeds the web page's files, and not its sources", () => {
      const web = files.filter((f) => /(^|\/)web\//.test(f) && !f.includes("node_modules"))
        .map((f) => f.slice(f.search(/(^|\/)web\//)).replace(/^\//, "")).sort();
      assert.deepEqual(web, [
        "web/dist/app.js",
        "web/favicon.svg",
        "web/index.html",
        "web/styles.css",
      ]);
    });

    await t.step("carries the page's script byte for byte", async () => {
      const script = await Deno.readFile(`${root}/web/dist/app.js`);
      const probe = script.subarray(script.length - 4096);
      assert.ok(indexOfBytes(binary, probe, 0) !== -1, "web/dist/app.js is not in the binary");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The modification time of the default build, or null when there is none. */
async function defaultBuildTime(): Promise<number | null> {
  try {
    return (await Deno.stat(`${root}dist/exo-node`)).mtime?.getTime() ?? null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

Deno.test("compile.sh --dry-run without --output keeps its output out of dist/ and removes it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "exo-compile-tmp-" });
  try {
    const before = await defaultBuildTime();
    const result = await new Deno.Command("bash", {
      args: [script, "--dry-run", "--target", "x86_64-unknown-linux-gnu", "--no-check"],
      cwd: root,
      env: { NO_COLOR: "1", TMPDIR: tmp },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, log);
    assert.match(log, /Embedded Files/);
    assert.match(
      log,
      new RegExp(`Building ${tmp}/exo-node-dry-run\\.\\w+/exo-node\\.dry-run-not-runnable`),
    );
    assert.match(log, /its output was not runnable and is removed/);
    assert.deepEqual([...Deno.readDirSync(tmp)], []);
    assert.equal(await defaultBuildTime(), before, "dist/exo-node was written");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("compile.sh --help documents --dry-run", async () => {
  const result = await new Deno.Command("bash", { args: [script, "--help"], stdout: "piped" })
    .output();
  const help = new TextDecoder().decode(result.stdout);
  assert.equal(result.code, 0);
  assert.match(help, /--dry-run +check a build without downloading `denort`/);
  assert.match(help, /output is NOT runnable/);
});
