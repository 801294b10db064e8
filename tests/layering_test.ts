// The HTTP API is the layer above the node: it shows what the node, the orchestration and
// the model code produce, so those never import it (a type they share lives with the
// code that makes it). main.ts is the only place that joins the two.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = fileURLToPath(new URL("../lib/", import.meta.url));
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"']*?from\s*["']([^"']+)["']/g;

async function* modules(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* modules(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("No module outside lib/api imports lib/api", async () => {
  const offenders: string[] = [];
  let checked = 0;
  for await (const path of modules(LIB)) {
    const folder = relative(LIB, path).split("/")[0];
    if (folder === "api") continue;
    checked++;
    const source = await Deno.readTextFile(path);
    for (const [, specifier] of source.matchAll(IMPORT)) {
      if (!specifier.startsWith(".")) continue;
      const target = relative(LIB, join(path, "..", specifier));
      if (target.split("/")[0] === "api") offenders.push(`${relative(LIB, path)} -> ${target}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} modules found under ${LIB}`);
  assert.deepEqual(offenders, []);
});
