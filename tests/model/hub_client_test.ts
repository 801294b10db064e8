import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { HubClient } from "../../lib/model/hub_client.ts";
import { HubAccessError } from "../../lib/model/hub_access_error.ts";
import { ModelNotFoundError } from "../../lib/model/model_not_found_error.ts";
import { hubResolver, REPO, startHub } from "./_hub_fixture.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { repoCacheFolder } from "../../lib/model/hub_cache.ts";

async function withHub(
  fn: (hub: Awaited<ReturnType<typeof startHub>>, root: string) => Promise<void>,
  options: { gated?: boolean } = {},
): Promise<void> {
  const root = await Deno.makeTempDir();
  const started = await startHub(root, options);
  try {
    await fn(started, root);
  } finally {
    await started.hub.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("HubClient lists a revision's commit and files through the listing route", () =>
  withHub(async ({ hub, model }) => {
    const client = new HubClient({ endpoint: hub.endpoint + "/" });
    const revision = await client.revision(REPO);
    assert.equal(revision.commit, hub.commit(REPO));
    for (const file of [...model.files, "config.json", "tokenizer.json"]) {
      assert.ok(revision.files.includes(file), file);
    }
    assert.ok(hub.log.some((r) => r.path === `/api/models/${REPO}/revision/main`));
    await assert.rejects(client.revision("test-org/absent"), ModelNotFoundError);
  }));

Deno.test("HubClient reads file metadata with a HEAD: git sha1 in ETag, LFS sha256 on the redirect", () =>
  withHub(async ({ hub, model }) => {
    const client = new HubClient({ endpoint: hub.endpoint });
    const commit = hub.commit(REPO);
    const config = await Deno.readFile(join(model.dir, "config.json"));
    const meta = await client.file(REPO, commit, "config.json");
    assert.deepEqual(meta, {
      etag: createHash("sha1").update(`blob ${config.byteLength}\0`).update(config).digest("hex"),
      size: config.byteLength,
      url: `${hub.endpoint}/${REPO}/resolve/${commit}/config.json`,
      name: `${REPO}/config.json`,
    });
    const weights = model.files[1];
    const lfs = await client.file(REPO, commit, weights);
    assert.equal(lfs?.etag, hub.sha256(REPO, weights));
    assert.equal(lfs?.size, (await Deno.stat(join(model.dir, weights))).size);
    assert.equal(
      lfs?.url,
      `${hub.endpoint}/_storage/${REPO}/${hub.sha256(REPO, weights)}/${weights}`,
    );
    assert.deepEqual(
      hub.log.filter((r) => r.path.includes("/resolve/")).map((r) => r.method),
      ["HEAD", "HEAD"],
      "metadata is a HEAD that does not follow the LFS redirect",
    );
    assert.equal(await client.file(REPO, commit, "absent.json"), null);
    await assert.rejects(client.file(REPO, "f".repeat(40), "config.json"), ModelNotFoundError);

    const ranged = await client.get(lfs!.url, 10);
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("Content-Range"), `bytes 10-${lfs!.size - 1}/${lfs!.size}`);
    const tail = new Uint8Array(await ranged.arrayBuffer());
    assert.deepEqual(tail, (await Deno.readFile(join(model.dir, weights))).subarray(10));
  }));

Deno.test("HubClient sends the token to the hub only, and a gated repo answers 401 without it", () =>
  withHub(async ({ hub }) => {
    const commit = hub.commit(REPO);
    await assert.rejects(
      new HubClient({ endpoint: hub.endpoint }).file(REPO, commit, "config.json"),
      (error: Error) => error instanceof HubAccessError && error.status === 401,
    );
    const client = new HubClient({ endpoint: hub.endpoint, token: hub.token });
    assert.ok(await client.file(REPO, commit, "config.json"));
    assert.ok((await client.revision(REPO)).commit);
    assert.ok(hub.log.slice(1).every((r) => r.authorized));
  }, { gated: true }));

Deno.test("A model seeded by hand is used as is; a shard it lacks is downloaded to the hub cache", () =>
  withHub(async ({ hub, model }, root) => {
    const seed = join(root, "seed");
    const folder = repoCacheFolder(seed, REPO);
    const snapshot = join(folder, "snapshots", "seeded");
    await Deno.mkdir(snapshot, { recursive: true });
    await Deno.mkdir(join(folder, "refs"));
    await Deno.writeTextFile(join(folder, "refs", "main"), "seeded");
    for (const file of ["config.json", "tokenizer.json", "model.safetensors.index.json"]) {
      await Deno.copyFile(join(model.dir, file), join(snapshot, file));
    }
    const offline = new ModelResolver({ hubCache: join(root, "cache"), seedDir: seed });
    assert.equal((await offline.resolve(REPO)).dir, snapshot);
    await assert.rejects(offline.resolveShard(REPO, 0, 0), /missing in .*seeded/);

    const cache = join(root, "cache");
    const online = hubResolver(hub, cache, { seedDir: seed });
    assert.equal((await online.resolve(REPO)).dir, snapshot);
    assert.equal(hub.log.length, 0);
    const shard = await online.resolveShard(REPO, 0, 0);
    assert.ok(shard.dir.startsWith(cache));
    assert.ok(hub.downloads().every((file) => file === model.files[0]), hub.downloads().join());
  }));
