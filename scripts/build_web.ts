// deno-lint-ignore-file no-console -- a build script reports what it wrote
/**
 * Builds the web chat page's script: bundles web/src/main.tsx and its npm libraries
 * (preact, marked, DOMPurify, highlight.js) with `deno bundle` into web/dist/app.js, which
 * is committed so that a node (and `deno compile`) serves it without a build step.
 *
 *   deno task build:web            write web/dist/app.js
 *   deno task build:web --check    exit 1 when web/dist/app.js is not what the sources give
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = `${root}web/src/main.tsx`;
const output = `${root}web/dist/app.js`;

/** Bundles the page into `path`; throws with deno bundle's output when it fails. */
export async function bundleWeb(path: string): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--config",
      `${root}deno.json`,
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      "--output",
      path,
      entry,
    ],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (result.code !== 0) {
    const decoder = new TextDecoder();
    throw new Error(
      `Cannot bundle ${entry}:\n${decoder.decode(result.stdout)}${decoder.decode(result.stderr)}`,
    );
  }
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const unknown = Deno.args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`build_web: Unknown argument ${unknown[0]} (expected --check or nothing)`);
    Deno.exit(2);
  }
  const temp = await Deno.makeTempDir({ prefix: "exo-web-" });
  try {
    await bundleWeb(`${temp}/app.js`);
    const fresh = await Deno.readFile(`${temp}/app.js`);
    if (check) {
      const committed = await Deno.readFile(output).catch(() => new Uint8Array());
      if (!sameBytes(fresh, committed)) {
        console.error("web/dist/app.js is out of date with web/src: run `deno task build:web`");
        Deno.exit(1);
      }
      console.log(`web/dist/app.js is up to date (${fresh.length} bytes)`);
    } else {
      await Deno.mkdir(`${root}web/dist`, { recursive: true });
      await Deno.writeFile(output, fresh);
      console.log(`Wrote web/dist/app.js (${fresh.length} bytes)`);
    }
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
