import assert from "node:assert/strict";
import { createApp } from "../../lib/api/app.ts";
import type { DownloadDeps } from "../../lib/api/downloads_route.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";
import { HubAccessError } from "../../lib/model/hub_access_error.ts";
import { ModelNotFoundError } from "../../lib/model/model_not_found_error.ts";
import { ClusterUnavailableError } from "../../lib/orchestration/errors.ts";
import { FakeCompletionService } from "./_fake_service.ts";
import { post, TEST_LIMITS } from "./_test_app.ts";

const EVENT: DownloadEvent = {
  event: "download",
  nodeId: "node-b",
  model: "test-org/tiny",
  repo: "test-org/tiny",
  file: "model-00001-of-00002.safetensors",
  bytes: 100,
  totalBytes: 400,
  speed: 50,
  eta: 6,
  status: "downloading",
  done: false,
  files: [{ file: "model-00001-of-00002.safetensors", bytes: 100, totalBytes: 400, done: false }],
  at: 1234,
};

function appWith(downloads: DownloadDeps) {
  return createApp({
    nodeId: "node-a",
    topology: () => Promise.resolve({ node_id: "node-a", nodes: [], edges: [], partition: null }),
    echoTensor: () => Promise.reject(new Error("no peers")),
    completions: new FakeCompletionService(),
    limits: TEST_LIMITS,
    downloads,
  });
}

const FAILING: DownloadDeps = {
  progress: () => [],
  prefetch: () => Promise.reject(new Error("unexpected")),
  remove: () => Promise.reject(new Error("unexpected")),
};

Deno.test("GET /v1/download/progress lists every node's latest download", async () => {
  const app = appWith({ ...FAILING, progress: () => [EVENT] });
  const response = await app.request("/v1/download/progress");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    object: "list",
    data: [{
      node_id: "node-b",
      model: "test-org/tiny",
      repo: "test-org/tiny",
      file: "model-00001-of-00002.safetensors",
      bytes: 100,
      total_bytes: 400,
      speed: 50,
      eta: 6,
      status: "downloading",
      done: false,
      error: null,
      files: [{
        file: "model-00001-of-00002.safetensors",
        bytes: 100,
        total_bytes: 400,
        done: false,
      }],
      updated_at: 1234,
    }],
  });
});

Deno.test("POST /download starts the cluster's download and answers 202 with this node's layers and the plan", async () => {
  const asked: string[] = [];
  const app = appWith({
    ...FAILING,
    prefetch: (model) => {
      asked.push(model);
      return Promise.resolve({
        model,
        startLayer: 4,
        endLayer: 7,
        shards: [
          { nodeId: "node-b", startLayer: 0, endLayer: 3 },
          { nodeId: "node-a", startLayer: 4, endLayer: 7 },
        ],
      });
    },
  });
  for (const path of ["/download", "/v1/download"]) {
    const response = await post(app, path, { model: "test-org/tiny" });
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), {
      model: "test-org/tiny",
      start_layer: 4,
      end_layer: 7,
      status: "downloading",
      shards: [
        { node_id: "node-b", start_layer: 0, end_layer: 3 },
        { node_id: "node-a", start_layer: 4, end_layer: 7 },
      ],
    });
  }
  assert.deepEqual(asked, ["test-org/tiny", "test-org/tiny"]);
});

Deno.test("POST /download refuses a missing model and maps download errors", async (t) => {
  const cases: [string, unknown, Error | null, number, string | null][] = [
    ["no model", {}, null, 400, null],
    ["an empty model", { model: " " }, null, 400, null],
    ["an unknown model", { model: "x" }, new ModelNotFoundError("x"), 404, "model_not_found"],
    [
      "a gated repo",
      { model: "x/y" },
      new HubAccessError("x/y", 401, false),
      403,
      "hub_access_denied",
    ],
    [
      "no layers here",
      { model: "x/y" },
      new ClusterUnavailableError("no layers"),
      503,
      "cluster_unavailable",
    ],
  ];
  for (const [name, body, error, status, code] of cases) {
    await t.step(name, async () => {
      const app = appWith({ ...FAILING, prefetch: () => Promise.reject(error) });
      const response = await post(app, "/download", body);
      assert.equal(response.status, status);
      const json = await response.json();
      assert.equal(json.error.code, code);
      if (error) assert.equal(json.error.message.includes(error.message.slice(0, 20)), true);
    });
  }
});

Deno.test("DELETE /models/{id} removes a local copy and says the bytes freed, 404 when there is none", async () => {
  const removed: string[] = [];
  const app = appWith({
    ...FAILING,
    remove: (id) => {
      removed.push(id);
      return Promise.resolve(id === "test-org/tiny" ? 4096 : id === "test-org/empty" ? 0 : null);
    },
  });
  const response = await app.request("/models/test-org/tiny", { method: "DELETE" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    id: "test-org/tiny",
    object: "model",
    deleted: true,
    freed_bytes: 4096,
  });
  // An empty cache folder is still a local copy: zero bytes freed is not "none".
  const empty = await app.request("/v1/models/test-org/empty", { method: "DELETE" });
  assert.equal(empty.status, 200);
  assert.equal((await empty.json()).freed_bytes, 0);
  const again = await app.request("/v1/models/test-org/other", { method: "DELETE" });
  assert.equal(again.status, 404);
  assert.equal((await again.json()).error.code, "model_not_found");
  assert.deepEqual(removed, ["test-org/tiny", "test-org/empty", "test-org/other"]);
});

Deno.test("Without download deps the download routes are not served", async () => {
  const app = createApp({
    nodeId: "node-a",
    topology: () => Promise.resolve({ node_id: "node-a", nodes: [], edges: [], partition: null }),
    echoTensor: () => Promise.reject(new Error("no peers")),
    completions: new FakeCompletionService(),
    limits: TEST_LIMITS,
  });
  assert.equal((await app.request("/v1/download/progress")).status, 404);
  assert.equal((await app.request("/models/a/b", { method: "DELETE" })).status, 404);
});
