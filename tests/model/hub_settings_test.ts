import assert from "node:assert/strict";
import { join } from "node:path";
import { hubEndpoint, hubOfflineFromEnv, hubToken } from "../../lib/model/hub_settings.ts";
import { Limiter } from "../../lib/model/_limiter.ts";
import { expectedDigest, FileDigest } from "../../lib/model/file_digest.ts";
import { normalizeEtag } from "../../lib/model/hub_client.ts";

function env(values: Record<string, string>) {
  return { get: (name: string) => values[name] };
}

Deno.test("hubEndpoint follows HF_ENDPOINT and drops a trailing slash", () => {
  assert.equal(hubEndpoint(env({})), "https://huggingface.co");
  assert.equal(hubEndpoint(env({ HF_ENDPOINT: "http://127.0.0.1:9/" })), "http://127.0.0.1:9");
});

Deno.test("hubOfflineFromEnv reads HF_HUB_OFFLINE as the hub's tools do", () => {
  for (const on of ["1", "true", "YES", "on"]) {
    assert.equal(hubOfflineFromEnv(env({ HF_HUB_OFFLINE: on })), true);
  }
  for (const off of ["", "0", "false"]) {
    assert.equal(hubOfflineFromEnv(env({ HF_HUB_OFFLINE: off })), false);
  }
});

Deno.test("hubToken takes HF_TOKEN, else the token file under HF_HOME, else none", async () => {
  const home = await Deno.makeTempDir();
  try {
    assert.equal(await hubToken(env({ HF_TOKEN: "hf_a", HF_HOME: home })), "hf_a");
    assert.equal(await hubToken(env({ HF_HOME: home })), undefined);
    await Deno.writeTextFile(join(home, "token"), "hf_file\n");
    assert.equal(await hubToken(env({ HF_HOME: home })), "hf_file");
    await Deno.mkdir(join(home, ".cache", "huggingface"), { recursive: true });
    await Deno.writeTextFile(join(home, ".cache", "huggingface", "token"), "hf_home");
    assert.equal(await hubToken(env({ HOME: home })), "hf_home");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("Etags name the digest to check: sha256 for LFS, git blob sha1 otherwise", () => {
  assert.equal(normalizeEtag('W/"abc"'), "abc");
  assert.deepEqual(expectedDigest("A".repeat(64)), { kind: "sha256", hex: "a".repeat(64) });
  assert.deepEqual(expectedDigest("b".repeat(40)), { kind: "git-sha1", hex: "b".repeat(40) });
  assert.equal(expectedDigest("s3-etag"), null);
  // `git hash-object` of "hello\n".
  const digest = new FileDigest({ kind: "git-sha1", hex: "" }, 6);
  digest.update(new TextEncoder().encode("hello\n"));
  assert.equal(digest.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
});

Deno.test("Limiter runs at most its limit of tasks at once", async () => {
  const limiter = new Limiter(2);
  let running = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 6 }, () =>
    limiter.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    })));
  assert.equal(most, 2);
  assert.throws(() => new Limiter(0), RangeError);
});
