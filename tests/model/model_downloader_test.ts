import assert from "node:assert/strict";
import { join } from "node:path";
import { hubResolver, REPO, startHub } from "./_hub_fixture.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { ModelNotFoundError } from "../../lib/model/model_not_found_error.ts";
import { HubAccessError } from "../../lib/model/hub_access_error.ts";
import { BlobDownloadError } from "../../lib/model/blob_download.ts";
import { repoCacheFolder } from "../../lib/model/hub_cache.ts";
import { parseSafetensorsIndex } from "../../lib/model/safetensors_index.ts";
import { MODEL_META_FILES, shardWeightFiles } from "../../lib/model/shard_files.ts";
import type { WrittenCheckpoint } from "../fixtures/make_checkpoint.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";

async function weightFilesOf(model: WrittenCheckpoint, start: number, end: number) {
  const index = JSON.parse(
    await Deno.readTextFile(join(model.dir, "model.safetensors.index.json")),
  );
  return shardWeightFiles(
    model.config,
    { startLayer: start, endLayer: end },
    parseSafetensorsIndex(index, "index"),
  );
}

function hubHas(model: WrittenCheckpoint, file: string): boolean {
  try {
    return Deno.statSync(join(model.dir, file)).isFile;
  } catch {
    return false;
  }
}

async function assertSameBytes(actual: string, expected: string): Promise<void> {
  assert.deepEqual(await Deno.readFile(actual), await Deno.readFile(expected));
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("A middle shard downloads only the weight files holding its layers, in the hub cache layout", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const cache = join(root, "cache");
      const events: DownloadEvent[] = [];
      const resolved = await hubResolver(hub, cache, { events }).resolveShard(REPO, 3, 4);
      const commit = hub.commit(REPO);
      const folder = repoCacheFolder(cache, REPO);
      assert.equal(resolved.dir, join(folder, "snapshots", commit));
      assert.equal(resolved.id, REPO);
      assert.equal(await Deno.readTextFile(join(folder, "refs", "main")), commit);

      const weights = await weightFilesOf(model, 3, 4);
      assert.ok(weights.length < model.files.length, "the shard needs only some weight files");
      const downloaded = hub.downloads().sort();
      assert.deepEqual(downloaded.filter((f) => f.endsWith(".safetensors")), [...weights].sort());
      const metaFetched = hub.log.filter((r) => r.method === "GET" && r.path.includes("/resolve/"))
        .map((r) => r.path.split("/").pop()!).sort();
      const metaServed = [...MODEL_META_FILES, "model.safetensors.index.json"]
        .filter((f) => hubHas(model, f)).sort();
      assert.deepEqual(metaFetched, metaServed);
      for (const request of hub.log) {
        const file = request.path.split("/").pop()!;
        if (file.endsWith(".safetensors")) assert.ok(weights.includes(file), `fetched ${file}`);
      }

      for (
        const file of [...weights, "config.json", "tokenizer.json", "model.safetensors.index.json"]
      ) {
        const link = join(resolved.dir, file);
        const target = await Deno.readLink(link);
        const etag = file.endsWith(".safetensors")
          ? hub.sha256(REPO, file)
          : target.split("/").pop()!;
        assert.equal(target, `../../blobs/${etag}`);
        await assertSameBytes(link, join(model.dir, file));
      }
      for await (const entry of Deno.readDir(join(folder, "blobs"))) {
        assert.ok(!entry.name.endsWith(".incomplete"), `left ${entry.name}`);
      }
      const last = events[events.length - 1];
      assert.equal(last.done, true);
      assert.equal(last.model, REPO);
      assert.equal(last.bytes, last.totalBytes);
      assert.ok(last.files.every((f) => f.done));
    } finally {
      await hub.close();
    }
  }));

Deno.test("A download cut off mid-file resumes with a Range request from where it stopped", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const [file] = await weightFilesOf(model, 0, 0);
      hub.dropOnce(file, 3000);
      const resolved = await hubResolver(hub, join(root, "cache")).resolveShard(REPO, 0, 0);
      const transfers = hub.log.filter((r) =>
        r.method === "GET" && r.path.endsWith(`/${file}`) && r.path.startsWith("/_storage/")
      );
      assert.deepEqual(transfers.map((r) => r.range), [null, "bytes=3000-"]);
      await assertSameBytes(join(resolved.dir, file), join(model.dir, file));
    } finally {
      await hub.close();
    }
  }));

Deno.test("A corrupted download fails its sha256 check and is fetched again", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const files = await weightFilesOf(model, 7, 7);
      const file = files[files.length - 1];
      hub.corruptOnce(file);
      const resolved = await hubResolver(hub, join(root, "cache")).resolveShard(REPO, 7, 7);
      assert.equal(hub.downloads().filter((f) => f === file).length, 2);
      await assertSameBytes(join(resolved.dir, file), join(model.dir, file));
    } finally {
      await hub.close();
    }
  }));

Deno.test("A partial file left by an earlier run is resumed, not fetched again", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const cache = join(root, "cache");
      const [file] = await weightFilesOf(model, 0, 0);
      const bytes = await Deno.readFile(join(model.dir, file));
      const blobs = join(repoCacheFolder(cache, REPO), "blobs");
      await Deno.mkdir(blobs, { recursive: true });
      await Deno.writeFile(
        join(blobs, `${hub.sha256(REPO, file)}.incomplete`),
        bytes.subarray(0, 1234),
      );
      const resolved = await hubResolver(hub, cache).resolveShard(REPO, 0, 0);
      const transfers = hub.log.filter((r) => r.method === "GET" && r.path.endsWith(`/${file}`));
      assert.deepEqual(transfers.map((r) => r.range), ["bytes=1234-"]);
      await assertSameBytes(join(resolved.dir, file), join(model.dir, file));
    } finally {
      await hub.close();
    }
  }));

Deno.test("A server error is retried after a backoff; a client error is not", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const [file] = await weightFilesOf(model, 0, 0);
      hub.failOnce(file, 503);
      const resolved = await hubResolver(hub, join(root, "cache")).resolveShard(REPO, 0, 0);
      assert.equal(hub.downloads().filter((f) => f === file).length, 2);
      await assertSameBytes(join(resolved.dir, file), join(model.dir, file));

      const [last] = (await weightFilesOf(model, 7, 7)).slice(-1);
      hub.failOnce(last, 403);
      await assert.rejects(
        hubResolver(hub, join(root, "other")).resolveShard(REPO, 7, 7),
        (error: Error) => error instanceof BlobDownloadError && /answered 403/.test(error.message),
      );
      assert.equal(hub.downloads().filter((f) => f === last).length, 1);
    } finally {
      await hub.close();
    }
  }));

Deno.test("Two nodes download their own shards at the same time", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const [first, second] = await Promise.all([
        hubResolver(hub, join(root, "a"), { nodeId: "a" }).resolveShard(REPO, 0, 3),
        hubResolver(hub, join(root, "b"), { nodeId: "b" }).resolveShard(REPO, 4, 7),
      ]);
      for (const [resolved, start, end] of [[first, 0, 3], [second, 4, 7]] as const) {
        const own = await weightFilesOf(model, start, end);
        for (const file of own) {
          await assertSameBytes(join(resolved.dir, file), join(model.dir, file));
        }
        const names = [];
        for await (const entry of Deno.readDir(resolved.dir)) {
          names.push(entry.name);
        }
        assert.deepEqual(names.filter((n) => n.endsWith(".safetensors")).sort(), [...own].sort());
      }
    } finally {
      await hub.close();
    }
  }));

Deno.test("Two downloaders sharing one cache fetch each file once, under the hub's blob lock", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const cache = join(root, "cache");
      const [first, second] = await Promise.all([
        hubResolver(hub, cache).resolveShard(REPO, 0, 7),
        hubResolver(hub, cache).resolveShard(REPO, 0, 7),
      ]);
      assert.equal(first.dir, second.dir);
      const fetched = hub.downloads().filter((f) => f.endsWith(".safetensors")).sort();
      assert.deepEqual(fetched, [...model.files].sort());
      const locks = join(cache, ".locks", "models--test-org--tiny-llama");
      assert.ok((await Array.fromAsync(Deno.readDir(locks))).length >= model.files.length);
    } finally {
      await hub.close();
    }
  }));

Deno.test("A second start with everything in the cache makes no request at all", () =>
  withRoot(async (root) => {
    const { hub } = await startHub(root);
    try {
      const cache = join(root, "cache");
      const first = await hubResolver(hub, cache).resolveShard(REPO, 2, 5);
      await hubResolver(hub, cache).resolve(REPO);
      const requests = hub.log.length;
      const again = hubResolver(hub, cache);
      assert.equal((await again.resolveShard(REPO, 2, 5)).dir, first.dir);
      assert.equal((await again.resolve(REPO)).dir, first.dir);
      assert.equal(hub.log.length, requests);
    } finally {
      await hub.close();
    }
  }));

Deno.test("Offline, a file missing from the cache is an error naming it", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const cache = join(root, "cache");
      await hubResolver(hub, cache).resolveShard(REPO, 0, 1);
      const requests = hub.log.length;
      const offline = hubResolver(hub, cache, { offline: true });
      assert.ok((await offline.resolveShard(REPO, 0, 1)).dir.startsWith(cache));
      const missing = await weightFilesOf(model, 7, 7);
      await assert.rejects(offline.resolveShard(REPO, 6, 7), (error: Error) => {
        assert.ok(error instanceof ModelNotFoundError);
        assert.match(error.message, /--offline/);
        assert.ok(error.message.includes(missing[missing.length - 1]), error.message);
        return true;
      });
      await assert.rejects(
        hubResolver(hub, join(root, "empty"), { offline: true }).resolve(REPO),
        /not downloaded on this node and --offline is set; looked in .*models--test-org--tiny-llama/,
      );
      assert.equal(hub.log.length, requests);
    } finally {
      await hub.close();
    }
  }));

Deno.test("A model another tool put in the hub cache layout is used as is", () =>
  withRoot(async (root) => {
    const { hub, model } = await startHub(root);
    try {
      const cache = join(root, "cache");
      const folder = repoCacheFolder(cache, "other-org/placed");
      const commit = "0123456789abcdef0123456789abcdef01234567";
      const snapshot = join(folder, "snapshots", commit);
      await Deno.mkdir(join(folder, "blobs"), { recursive: true });
      await Deno.mkdir(snapshot, { recursive: true });
      await Deno.mkdir(join(folder, "refs"));
      await Deno.writeTextFile(join(folder, "refs", "main"), commit);
      let n = 0;
      for await (const entry of Deno.readDir(model.dir)) {
        const blob = `blob${n++}`;
        await Deno.copyFile(join(model.dir, entry.name), join(folder, "blobs", blob));
        await Deno.symlink(`../../blobs/${blob}`, join(snapshot, entry.name));
      }
      const resolver = hubResolver(hub, cache);
      assert.equal((await resolver.resolveShard("other-org/placed", 0, 7)).dir, snapshot);
      assert.equal((await resolver.resolve("other-org/placed")).dir, snapshot);
      assert.equal(hub.log.length, 0);
    } finally {
      await hub.close();
    }
  }));

Deno.test("A gated repo without a token is an error saying so; with the token it downloads", () =>
  withRoot(async (root) => {
    const { hub } = await startHub(root, { gated: true });
    try {
      await assert.rejects(
        hubResolver(hub, join(root, "a")).resolve(REPO),
        (error: Error) => {
          assert.ok(error instanceof HubAccessError, String(error));
          assert.match(error.message, /gated or private.*no token is set.*HF_TOKEN/);
          return true;
        },
      );
      await assert.rejects(
        hubResolver(hub, join(root, "b"), { token: "hf_wrong" }).resolve(REPO),
        /the token has no access/,
      );
      const resolved = await hubResolver(hub, join(root, "c"), { token: hub.token }).resolve(REPO);
      assert.ok(await Deno.stat(join(resolved.dir, "tokenizer.json")));
    } finally {
      await hub.close();
    }
  }));

Deno.test("A repo the hub does not have is a model-not-found error", () =>
  withRoot(async (root) => {
    const { hub } = await startHub(root);
    try {
      await assert.rejects(
        hubResolver(hub, join(root, "cache")).resolve("test-org/no-such-model"),
        (error: Error) => error instanceof ModelNotFoundError && /no such repo/.test(error.message),
      );
    } finally {
      await hub.close();
    }
  }));

Deno.test("Removing a model deletes its hub cache folder only", () =>
  withRoot(async (root) => {
    const { hub } = await startHub(root);
    try {
      const cache = join(root, "cache");
      const resolver = hubResolver(hub, cache);
      await resolver.resolve(REPO);
      const held = (await resolver.describe(REPO)).localBytes;
      assert.ok(held !== null && held > 0, `${held}`);
      assert.equal(await resolver.remove(REPO), held);
      assert.equal(await resolver.remove(REPO), null);
      await assert.rejects(Deno.stat(repoCacheFolder(cache, REPO)), Deno.errors.NotFound);
      const local = new ModelResolver({ hubCache: cache });
      await assert.rejects(local.remove(join(root, "repo")), RangeError);
    } finally {
      await hub.close();
    }
  }));
