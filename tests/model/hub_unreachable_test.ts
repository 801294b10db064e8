import assert from "node:assert/strict";
import { HubClient } from "../../lib/model/hub_client.ts";
import { ModelDownloader } from "../../lib/model/model_downloader.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { hubFetchFailure, HubUnreachableError } from "../../lib/model/hub_unreachable_error.ts";
import { ModelUnreachableError } from "../../lib/model/model_unreachable_error.ts";
import { ModelNotFoundError } from "../../lib/model/model_not_found_error.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";
import { freePort } from "../_helpers/free_port.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";

/** A loopback listener that does `onConn` with each connection; closed by the returned stop. */
function tcpServer(onConn: (conn: Deno.Conn) => void): { port: number; stop(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        onConn(conn);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async stop() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Already closed by the handler.
        }
      }
      await accepting;
    },
  };
}

async function listingFailure(endpoint: string, timeoutMs = 30_000): Promise<HubUnreachableError> {
  const client = new HubClient({ endpoint, metadataTimeoutMs: timeoutMs });
  const error = await client.revision("test-org/tiny").then(
    () => assert.fail("the listing succeeded"),
    (e) => e,
  );
  assert.ok(error instanceof HubUnreachableError, `${error}`);
  // A person reads the host, never the listing URL with its query string.
  assert.doesNotMatch(error.message, /\?|\/api\/|expand=/, error.message);
  return error;
}

Deno.test("HubClient says the hub refused the connection, naming only the host", async () => {
  const port = freePort();
  const error = await listingFailure(`http://127.0.0.1:${port}`);
  assert.equal(error.failure, "refused");
  assert.equal(error.host, `127.0.0.1:${port}`);
  assert.match(
    error.message,
    new RegExp(`^Cannot reach the hub at 127\\.0\\.0\\.1:${port}: the connection was refused`),
  );
});

Deno.test("HubClient says the connection closed before an answer", async () => {
  const server = tcpServer((conn) => conn.close());
  try {
    const error = await listingFailure(`http://127.0.0.1:${server.port}`);
    assert.equal(error.failure, "reset");
  } finally {
    await server.stop();
  }
});

Deno.test("HubClient gives up on a hub that accepts and never answers (metadata timeout)", async () => {
  const server = tcpServer(() => {});
  try {
    const error = await listingFailure(`http://127.0.0.1:${server.port}`, 300);
    assert.equal(error.failure, "timeout");
  } finally {
    await server.stop();
  }
});

Deno.test("HubClient reads a 503 from the hub as unreachable, with the status", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("busy", { status: 503 }),
  );
  try {
    const error = await listingFailure(`http://127.0.0.1:${server.addr.port}`);
    assert.equal(error.failure, "http");
    assert.equal(error.status, 503);
    assert.match(error.message, /HTTP 503/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("hubFetchFailure reads Deno's DNS and TLS errors (their text as Deno 2.9 gives it; neither can be caused here without traffic beyond loopback)", () => {
  const denoError = (detail: string) =>
    new TypeError("fetch failed", {
      cause: new Error(
        `error sending request for url (https://huggingface.co/api/models/x?expand=sha): client error (Connect): ${detail}`,
      ),
    });
  const dns = hubFetchFailure(
    "https://huggingface.co/api/models/x?expand=sha",
    denoError("dns error: failed to lookup address information: Name or service not known"),
  );
  assert.equal(dns.failure, "dns");
  assert.equal(
    dns.message,
    "Cannot reach the hub at huggingface.co: the name huggingface.co does not resolve (no DNS answer: offline, or DNS blocked)",
  );
  const tls = hubFetchFailure(
    "https://huggingface.co/x",
    denoError("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"),
  );
  assert.equal(tls.failure, "tls");
  assert.match(tls.message, /certificate was not accepted/);
  const other = hubFetchFailure("https://huggingface.co/x?a=b", denoError("something new"));
  assert.equal(other.failure, "network");
  assert.doesNotMatch(other.message, /\?a=b/);
});

Deno.test("A registry model the hub cannot give is ModelUnreachableError: known, why, what to do", () =>
  withTempDir(async (root) => {
    const events: DownloadEvent[] = [];
    const resolver = new ModelResolver({
      hubCache: `${root}/hub`,
      downloader: new ModelDownloader({
        client: new HubClient({ endpoint: `http://127.0.0.1:${freePort()}` }),
        hubCache: `${root}/hub`,
        nodeId: "a",
        onProgress: (event) => events.push(event),
      }),
    });
    const error = await resolver.resolve("llama-3.2-1b").catch((e) => e);
    assert.ok(error instanceof ModelUnreachableError, `${error}`);
    assert.ok(!(error instanceof ModelNotFoundError), "not a model-not-found");
    assert.equal(error.hub.failure, "refused");
    assert.match(
      error.message,
      /^Model "llama-3\.2-1b" is known \(unsloth\/Llama-3\.2-1B-Instruct\) but not downloaded on this node, and the hub at 127\.0\.0\.1:\d+ could not be reached/,
    );
    for (const hint of ["--models-seed-dir", "--offline", "HF_ENDPOINT", "model directory"]) {
      assert.ok(error.message.includes(hint), hint);
    }
    const last = events.at(-1);
    assert.equal(last?.status, "failed");
    assert.equal(last?.done, false);
    assert.equal(last?.eta, null);

    const shard = await resolver.resolveShard("llama-3.2-1b", 0, 3).catch((e) => e);
    assert.ok(shard instanceof ModelUnreachableError, "a shard's weights likewise");

    // A hub repo that is not in the registry: the same kind, without "known".
    const repo = await resolver.resolve("some-org/some-model").catch((e) => e);
    assert.ok(repo instanceof ModelUnreachableError);
    assert.match(repo.message, /^Model "some-org\/some-model" is not on this node, and the hub/);
  }));

Deno.test("A name that is nothing stays ModelNotFoundError, marked as an unknown name", () =>
  withTempDir(async (root) => {
    const resolver = new ModelResolver({ hubCache: `${root}/hub` });
    const error = await resolver.resolve("gpt-4o").catch((e) => e);
    assert.ok(error instanceof ModelNotFoundError);
    assert.equal(error.unknownName, true);
    assert.match(error.message, /not a registry id, a hub repo \(org\/name\) or a model directory/);
    const missing = await resolver.resolve("llama-3.2-1b").catch((e) => e);
    assert.ok(missing instanceof ModelNotFoundError);
    assert.equal(missing.unknownName, false, "a known model that is not here is not unknown");
  }));
