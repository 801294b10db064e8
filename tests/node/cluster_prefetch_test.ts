import assert from "node:assert/strict";
import { join } from "node:path";
import { ClusterPrefetch } from "../../lib/node/cluster_prefetch.ts";
import { DownloadBoard } from "../../lib/node/download_board.ts";
import { prefetchRequestJson } from "../../lib/node/prefetch_request.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { Logger } from "../../lib/log/logger.ts";
import type { Message } from "../../lib/protocol/messages.ts";
import type { ClusterView } from "../../lib/topology/topology.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";

const TWO_NODES: ClusterView = {
  selfId: "a",
  nodes: [
    { nodeId: "a", capabilities: { ...UNKNOWN_CAPABILITIES, memory: 1000 }, hops: 0, alive: true },
    { nodeId: "b", capabilities: { ...UNKNOWN_CAPABILITIES, memory: 1000 }, hops: 1, alive: true },
  ],
  edges: [{ from: "a", to: "b" }],
};

/** A prefetcher over local files only (no downloader), recording what it sends and logs. */
function harness(root: string, send?: (to: string, message: Message) => Promise<void>) {
  const sent: { to: string; message: Message }[] = [];
  const lines: string[] = [];
  const board = new DownloadBoard();
  const prefetch = new ClusterPrefetch({
    selfId: "a",
    resolver: new ModelResolver({ hubCache: join(root, "hub") }),
    view: () => TWO_NODES,
    send: send ?? ((to, message) => {
      sent.push({ to, message });
      return Promise.resolve();
    }),
    downloads: board,
    logger: new Logger("debug", (line) => lines.push(line)),
    signal: new AbortController().signal,
  });
  return { prefetch, sent, lines, board };
}

Deno.test("ClusterPrefetch fetches this node's share and asks every other node of the plan for its own", async () => {
  const root = await Deno.makeTempDir();
  try {
    const model = await writeRandomCheckpoint(join(root, "model"), {
      architecture: "llama",
      numLayers: 4,
    });
    const { prefetch, sent, board } = harness(root);
    const plan = await prefetch.start(model.dir);
    assert.deepEqual(plan, {
      model: model.dir,
      startLayer: 2,
      endLayer: 3,
      shards: [
        { nodeId: "b", startLayer: 0, endLayer: 1 },
        { nodeId: "a", startLayer: 2, endLayer: 3 },
      ],
    });
    assert.deepEqual(sent, [{
      to: "b",
      message: { type: "status", json: prefetchRequestJson(model.dir, 0, 1) },
    }]);
    await prefetch.close();
    // Every file was already here: the share still ends with a done event, for the others.
    const event = board.latest("a", model.dir);
    assert.equal(event?.done, true);
    assert.equal(event?.error, undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ClusterPrefetch logs an ask it cannot send", async () => {
  const root = await Deno.makeTempDir();
  try {
    const model = await writeRandomCheckpoint(join(root, "model"), {
      architecture: "llama",
      numLayers: 4,
    });
    const { prefetch, lines } = harness(
      root,
      () => Promise.reject(new Error("Cannot send to b: not connected")),
    );
    await prefetch.start(model.dir);
    await prefetch.close();
    assert.ok(
      lines.some((l) => /WARN.*Cannot ask b to prefetch layers 0\.\.1 of .*not connected/.test(l)),
      lines.join("\n"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ClusterPrefetch ignores malformed prefetch requests and reports a share that fails before any download", async () => {
  const root = await Deno.makeTempDir();
  try {
    const { prefetch, lines, board } = harness(root);
    assert.equal(prefetch.onStatus('{"event":"download"}', "b"), false);
    assert.equal(prefetch.onStatus("not json", "b"), false);
    for (
      const json of [
        '{"event":"prefetch","model":"m","startLayer":-1,"endLayer":2}',
        '{"event":"prefetch","model":"m","startLayer":3,"endLayer":2}',
        '{"event":"prefetch","model":{},"startLayer":0,"endLayer":2}',
        `{"event":"prefetch","model":"${"m".repeat(5000)}","startLayer":0,"endLayer":2}`,
      ]
    ) {
      assert.equal(prefetch.onStatus(json, "b"), true);
    }
    await prefetch.close();
    assert.equal(lines.filter((l) => /WARN.*Ignoring a prefetch request from b/.test(l)).length, 4);
    assert.deepEqual(board.snapshot(), []);

    // Neither name can be had here (no model directory, no hub): no tracker ever starts, so
    // the failure is published as this node's download event, which peers receive.
    const missing = join(root, "no-such-model");
    assert.equal(onStatus(prefetch, missing), true);
    assert.equal(onStatus(prefetch, "test-org/not-here"), true);
    await prefetch.close();
    for (const model of [missing, "test-org/not-here"]) {
      const event = board.latest("a", model);
      assert.equal(event?.status, "failed", model);
      assert.equal(event?.done, false, model);
      assert.equal(event?.eta, null, model);
      assert.match(event?.error ?? "", /not found|not a directory|not downloaded/, model);
    }
    assert.ok(
      lines.some((l) => /WARN.*Cannot prefetch layers 0\.\.1 of test-org\/not-here/.test(l)),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

function onStatus(prefetch: ClusterPrefetch, model: string): boolean {
  return prefetch.onStatus(prefetchRequestJson(model, 0, 1), "b");
}
