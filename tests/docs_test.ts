/**
 * The README and docs/ stay true: the first commands use the pinned Deno, every command a
 * user copies names flags and tasks that exist, and every link leads somewhere.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { FLAGS } from "../lib/cli/_flag_table.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const README = join(ROOT, "README.md");

function read(path: string): string {
  return Deno.readTextFileSync(path);
}

function docFiles(): string[] {
  const docs = [...Deno.readDirSync(join(ROOT, "docs"))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => join(ROOT, "docs", entry.name));
  return [README, ...docs.sort()];
}

/** The fenced code blocks of a Markdown text, with their line continuations joined. */
function codeBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const fence = /^```[^\n]*\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(fence)) blocks.push(match[1].replace(/\\\n\s*/g, " "));
  return blocks;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const heading = !inFence && /^#{1,6} (.*)$/.exec(line);
    if (heading) found.add(slug(heading[1]));
  }
  return found;
}

Deno.test("The README starts with a node and the tests, through the Deno that CI pins", () => {
  const pinned = /deno_version="([^"]+)"/.exec(read(join(ROOT, ".ci/run")))?.[1];
  assert.ok(pinned, ".ci/run pins a Deno version");
  const first = codeBlocks(read(README))[0].split("\n").filter((l) => l && !l.startsWith("#"));
  assert.deepEqual(first, [
    `npx -y deno@${pinned} task start`,
    `npx -y deno@${pinned} task test`,
  ]);
});

Deno.test("The README is a guide of at most 250 lines; the reference lives in docs/", () => {
  const lines = read(README).split("\n").length;
  assert.ok(lines <= 250, `README.md has ${lines} lines`);
});

Deno.test("Every exo-node command in the README and docs uses flags and tasks that exist", () => {
  const flags = new Set(
    FLAGS.flatMap((f) => [f.name, ...(f.kind === "switch" ? [`--no-${f.name.slice(2)}`] : [])]),
  );
  const tasks = new Set(Object.keys(JSON.parse(read(join(ROOT, "deno.json"))).tasks));
  const checked: string[] = [];
  for (const file of docFiles()) {
    for (const block of codeBlocks(read(file))) {
      for (const raw of block.split("\n")) {
        const line = raw.replace(/#.*$/, "").trim();
        const task = /\bdeno(?:@[\d.]+)? task ([\w:-]+)/.exec(line);
        if (task) assert.ok(tasks.has(task[1]), `${relative(ROOT, file)}: no task ${task[1]}`);
        const node = /(?:\.\/exo-node|\btask start)\b(.*)$/.exec(line);
        if (!node) continue;
        for (const flag of node[1].matchAll(/(?<![\w-])--[a-z][\w-]*/g)) {
          assert.ok(
            flags.has(flag[0]),
            `${relative(ROOT, file)}: unknown flag ${flag[0]} in: ${line}`,
          );
          checked.push(flag[0]);
        }
      }
    }
  }
  assert.ok(checked.length > 20, `the commands were found (${checked.length} flags)`);
});

Deno.test("Every relative link in the README and docs leads to a file, and its anchor to a heading", () => {
  for (const file of docFiles()) {
    const text = read(file);
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1];
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const resolved = path === "" ? file : join(dirname(file), path);
      const where = `${relative(ROOT, file)} links to ${target}`;
      assert.ok(exists(resolved), `${where}: no such file`);
      if (anchor && resolved.endsWith(".md")) {
        assert.ok(anchors(read(resolved)).has(anchor), `${where}: no such heading`);
      }
    }
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
