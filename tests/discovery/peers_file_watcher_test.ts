import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { PeersFileWatcher } from "../../lib/discovery/peers_file_watcher.ts";
import type { PeerEntry } from "../../lib/discovery/peers_file.ts";
import { Logger } from "../../lib/log/logger.ts";

function peersText(peers: Record<string, string>): string {
  const body = Object.fromEntries(Object.entries(peers).map(([id, address]) => [id, { address }]));
  return JSON.stringify({ peers: body });
}

function ids(peers: readonly PeerEntry[]): string[] {
  return peers.map((peer) => peer.id);
}

/** Rejects if `promise` takes longer than `ms`, so a broken poller fails instead of hanging. */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A temp peers file, a collecting logger and a record of onChange calls. */
async function setup(initial: string) {
  const dir = await Deno.makeTempDir({ prefix: "peers_watcher_" });
  const path = join(dir, "peers.json");
  await Deno.writeTextFile(path, initial);
  const lines: string[] = [];
  const changes: string[][] = [];
  const logger = new Logger("debug", (line) => lines.push(line));
  return {
    dir,
    path,
    lines,
    changes,
    logger,
    open: (intervalMs: number | null = null) =>
      PeersFileWatcher.open(path, "self", logger, (peers) => changes.push(ids(peers)), {
        intervalMs,
      }),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("PeersFileWatcher.open reads the peers without calling onChange, skipping itself", async () => {
  const t = await setup(peersText({ self: "h:1", b: "h:2", a: "h:3" }));
  const watcher = await t.open();
  deepStrictEqual(ids(watcher.peers), ["a", "b"]);
  deepStrictEqual(t.changes, []);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher.open rejects a missing file, naming its path", async () => {
  const t = await setup("{}");
  await rejects(
    PeersFileWatcher.open(join(t.dir, "nope.json"), "self", t.logger, () => {}),
    (error: Error) =>
      error instanceof Deno.errors.NotFound &&
      error.message === `Cannot read peers file ${join(t.dir, "nope.json")}: no such file`,
  );
  await t.cleanup();
});

Deno.test("PeersFileWatcher.open rejects an invalid file with its position", async () => {
  const t = await setup('{"peers": {\n  "a": {"address": "h:1"}}\n  x');
  await rejects(t.open(), {
    name: "SyntaxError",
    message: new RegExp(`^Cannot parse peers file ${t.path} at line 3, column 3: `),
  });
  await t.cleanup();
});

Deno.test("PeersFileWatcher.open rejects a directory and a bad interval", async () => {
  const t = await setup("{}");
  await rejects(PeersFileWatcher.open(t.dir, "self", t.logger, () => {}), {
    message: `Cannot read peers file ${t.dir}: not a regular file`,
  });
  await rejects(t.open(0), RangeError);
  await t.cleanup();
});

Deno.test("PeersFileWatcher.reloadNow reports an added peer once", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open();
  await Deno.writeTextFile(t.path, peersText({ a: "h:1", c: "h:3" }));
  strictEqual(await watcher.reloadNow(), true);
  strictEqual(await watcher.reloadNow(), false);
  deepStrictEqual(t.changes, [["a", "c"]]);
  deepStrictEqual(ids(watcher.peers), ["a", "c"]);
  strictEqual(t.lines.some((line) => line.includes("changed: 2 peers; added c")), true);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher sees an edit that keeps the size", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open();
  await Deno.writeTextFile(t.path, peersText({ a: "h:2" }));
  strictEqual(await watcher.reloadNow(), true);
  strictEqual(watcher.peers[0].port, 2);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher ignores an edit that leaves the peers as they were", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open();
  await Deno.writeTextFile(
    t.path,
    JSON.stringify({ peers: { a: { address: "h", port: 1 } } }, null, 2),
  );
  strictEqual(await watcher.reloadNow(), false);
  deepStrictEqual(t.changes, []);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher keeps the last good peers through an invalid edit, logging it once", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open();
  await Deno.writeTextFile(t.path, '{"peers": {"a": {"address": "h:70000"}}}');
  strictEqual(await watcher.reloadNow(), false);
  strictEqual(await watcher.reloadNow(), false);
  const warnings = () => t.lines.filter((line) => line.includes("WARN"));
  deepStrictEqual(warnings().length, 1);
  strictEqual(
    warnings()[0].endsWith(
      `Cannot parse peers file ${t.path}: peers.a.address: 70000 is not a port (1-65535); ` +
        "keeping the last good peers (1 peer)",
    ),
    true,
    warnings()[0],
  );
  deepStrictEqual(ids(watcher.peers), ["a"]);

  await Deno.writeTextFile(t.path, '{"peers": ');
  strictEqual(await watcher.reloadNow(), false);
  strictEqual(warnings().length, 2);
  strictEqual(warnings()[1].includes("at line 1, column 11: Unexpected end of JSON input"), true);

  await Deno.writeTextFile(t.path, peersText({ a: "h:1", b: "h:2" }));
  strictEqual(await watcher.reloadNow(), true);
  strictEqual(t.lines.some((line) => line.includes("is valid again")), true);
  deepStrictEqual(t.changes, [["a", "b"]]);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher keeps the last good peers when the file is deleted", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open();
  await Deno.remove(t.path);
  strictEqual(await watcher.reloadNow(), false);
  strictEqual(await watcher.reloadNow(), false);
  const warnings = t.lines.filter((line) => line.includes("WARN"));
  strictEqual(warnings.length, 1);
  strictEqual(warnings[0].includes(`Peers file ${t.path} was deleted; keeping`), true);
  deepStrictEqual(ids(watcher.peers), ["a"]);

  await Deno.writeTextFile(t.path, peersText({ a: "h:1" }));
  strictEqual(await watcher.reloadNow(), false, "the same peers again are no change");
  await Deno.writeTextFile(t.path, peersText({ z: "h:9" }));
  strictEqual(await watcher.reloadNow(), true);
  deepStrictEqual(t.changes, [["z"]]);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher follows a file replaced by rename, as editors save", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open();
  const temp = join(t.dir, ".peers.json.swp");
  await Deno.writeTextFile(temp, peersText({ b: "h:2" }));
  await Deno.rename(temp, t.path);
  strictEqual(await watcher.reloadNow(), true);
  deepStrictEqual(ids(watcher.peers), ["b"]);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher polls on its own and reports a change", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  let resolveChange!: (peers: readonly PeerEntry[]) => void;
  const changed = new Promise<readonly PeerEntry[]>((resolve) => resolveChange = resolve);
  const watcher = await PeersFileWatcher.open(t.path, "self", t.logger, resolveChange, {
    intervalMs: 10,
  });
  await Deno.writeTextFile(t.path, peersText({ a: "h:1", b: "h:2" }));
  deepStrictEqual(ids(await withDeadline(changed, 5000, "no change seen")), ["a", "b"]);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher logs a failing onChange and keeps watching", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await PeersFileWatcher.open(t.path, "self", t.logger, () => {
    throw new Error("boom");
  }, { intervalMs: null });
  await Deno.writeTextFile(t.path, peersText({ b: "h:1" }));
  strictEqual(await watcher.reloadNow(), true);
  strictEqual(t.lines.some((line) => line.includes("ERROR") && line.includes("boom")), true);
  await Deno.writeTextFile(t.path, peersText({ c: "h:1" }));
  strictEqual(await watcher.reloadNow(), true);
  await watcher.close();
  await t.cleanup();
});

Deno.test("PeersFileWatcher stops reloading once closed", async () => {
  const t = await setup(peersText({ a: "h:1" }));
  const watcher = await t.open(5);
  const pending = watcher.reloadNow();
  await watcher.close();
  await pending;
  await Deno.writeTextFile(t.path, peersText({ b: "h:1" }));
  strictEqual(await watcher.reloadNow(), false);
  deepStrictEqual(ids(watcher.peers), ["a"]);
  await t.cleanup();
});
