import assert from "node:assert/strict";
import type { DownloadProgress, ModelInfo } from "../../web/src/lib/api_client.ts";
import {
  clusterMemoryBytes,
  eventKey,
  FAILED_SHOWN_MS,
  memoryFit,
  modelStatuses,
  readiness,
  shownDownloads,
  sortForPicker,
} from "../../web/src/lib/model_status.ts";
import { ModelWaiter } from "../../web/src/lib/model_waiter.ts";
import { NodeApiError } from "../../web/src/lib/api_error.ts";

const MODELS: ModelInfo[] = [
  { id: "llama-3.2-1b", name: "Llama 3.2 1B", available_locally: false },
  { id: "qwen-3-0.6b", name: "Qwen 3 0.6B", available_locally: true, local_bytes: 1200 },
  { id: "smollm2-135m", name: "SmolLM2 135M", available_locally: false },
];

function event(
  node: string,
  model: string,
  over: Partial<DownloadProgress> = {},
): DownloadProgress {
  const done = over.done ?? false;
  const error = over.error ?? null;
  return {
    node_id: node,
    model,
    bytes: 50,
    total_bytes: 100,
    speed: 10,
    eta: 5,
    status: error !== null ? "failed" : done ? "done" : "downloading",
    done: done && error === null,
    error,
    updated_at: 1,
    ...over,
  };
}

Deno.test("modelStatuses sums a download over the nodes still fetching; the slowest node's ETA", () => {
  const [llama, qwen, smol] = modelStatuses(MODELS, [
    event("mac1", "llama-3.2-1b", { bytes: 30, total_bytes: 100, speed: 5, eta: 14 }),
    event("mac2", "llama-3.2-1b", { bytes: 80, total_bytes: 120, speed: 7, eta: 6 }),
    event("mac3", "llama-3.2-1b", { bytes: 10, total_bytes: 10, done: true }),
  ]);
  assert.equal(llama.state, "downloading");
  assert.deepEqual([llama.bytes, llama.totalBytes, llama.speed, llama.eta], [110, 220, 12, 14]);
  assert.equal(llama.downloads.length, 3);
  assert.equal(qwen.state, "local");
  assert.equal(smol.state, "absent");
});

Deno.test("modelStatuses: a failed node fails the model, all done makes it local, stale events are ignored", () => {
  const failed = event("mac2", "smollm2-135m", { error: "503 from the hub", eta: null });
  const done = event("mac1", "llama-3.2-1b", { done: true, updated_at: 7 });
  const [llama, , smol] = modelStatuses(MODELS, [done, failed]);
  assert.equal(smol.state, "failed");
  assert.equal(smol.error, "503 from the hub");
  assert.deepEqual([smol.bytes, smol.totalBytes], [0, 0], "a failure is not part of any bar");
  assert.equal(llama.state, "local");
  const shown = shownDownloads([done], new Set([eventKey(done)]), 10);
  const [afterDelete] = modelStatuses(MODELS, shown);
  assert.equal(afterDelete.state, "absent", "a deleted model's old done event does not count");
});

Deno.test("shownDownloads drops dismissed events and failures older than ten minutes", () => {
  const now = 1_000_000_000;
  const fresh = event("mac1", "llama-3.2-1b", { error: "hub down", updated_at: now - 60_000 });
  const old = event("mac2", "llama-3.2-1b", {
    error: "hub down",
    updated_at: now - FAILED_SHOWN_MS - 1,
  });
  const running = event("mac1", "qwen-3-0.6b", { updated_at: now - 2 * FAILED_SHOWN_MS });
  const dismissed = event("mac2", "qwen-3-0.6b", { error: "disk full", updated_at: now });
  assert.deepEqual(
    shownDownloads([fresh, old, running, dismissed], new Set([eventKey(dismissed)]), now),
    [fresh, running],
  );
  const [llama] = modelStatuses(MODELS, shownDownloads([old], new Set(), now));
  assert.equal(llama.state, "absent", "an expired failure no longer marks the model");
});

Deno.test("memoryFit compares a model's memory with the answering nodes' memory", () => {
  const node = (id: string, memory: number, alive = true) => ({
    id,
    alive,
    hops: 0,
    address: null,
    rtt_ms: null,
    capabilities: { model: "", chip: "", memory, flops: { fp32: 0, fp16: 0, int8: 0 } },
  });
  const topology = {
    node_id: "a",
    nodes: [node("a", 8192), node("b", 15913), node("c", 65536, false)],
    edges: [],
    partition: null,
  };
  const has = clusterMemoryBytes(topology)!;
  assert.equal(has, 24105 * 1024 * 1024, "the unreachable node does not count");
  const big = { ...MODELS[0], memory_bytes: 66.4e9 };
  assert.deepEqual(memoryFit(big, has), { needs: 66.4e9, has, fits: false });
  assert.equal(memoryFit({ ...MODELS[0], memory_bytes: 1.2e9 }, has)?.fits, true);
  assert.equal(memoryFit(MODELS[0], has), null, "no memory_bytes: unknown");
  assert.equal(memoryFit(big, clusterMemoryBytes(null)), null, "no topology: unknown");
});

Deno.test("sortForPicker puts local, downloading, failed, absent models in that order", () => {
  const statuses = modelStatuses(MODELS, [event("a", "smollm2-135m")]);
  assert.deepEqual(sortForPicker(statuses).map((s) => s.info.id), [
    "qwen-3-0.6b",
    "smollm2-135m",
    "llama-3.2-1b",
  ]);
  assert.deepEqual(readiness(statuses[0]), { kind: "wait" });
  assert.deepEqual(readiness(undefined), { kind: "ready" });
});

Deno.test("ModelWaiter holds a message until the model's download is done on every node", async () => {
  const waiter = new ModelWaiter();
  waiter.update(modelStatuses(MODELS, [event("a", "llama-3.2-1b"), event("b", "llama-3.2-1b")]));
  assert.ok(waiter.wouldWait("llama-3.2-1b"));
  let released = false;
  const waiting = waiter.wait("llama-3.2-1b", new AbortController().signal).then(() =>
    released = true
  );
  waiter.update(
    modelStatuses(MODELS, [event("a", "llama-3.2-1b", { done: true }), event("b", "llama-3.2-1b")]),
  );
  await Promise.resolve();
  assert.equal(released, false, "one node still downloads");
  waiter.update(modelStatuses(MODELS, [
    event("a", "llama-3.2-1b", { done: true }),
    event("b", "llama-3.2-1b", { done: true }),
  ]));
  await waiting;
  assert.equal(released, true);
});

Deno.test("ModelWaiter rejects on a failed download and on abort, and lets unknown models go", async () => {
  const waiter = new ModelWaiter();
  await waiter.wait("anything", new AbortController().signal); // nothing known yet
  waiter.update(modelStatuses(MODELS, [event("a", "smollm2-135m")]));
  const failing = waiter.wait("smollm2-135m", new AbortController().signal);
  waiter.update(modelStatuses(MODELS, [event("a", "smollm2-135m", { error: "disk full" })]));
  await assert.rejects(
    failing,
    (error: unknown) =>
      error instanceof NodeApiError && /disk full/.test(error.message) &&
      error.title === "The model could not be downloaded",
  );
  const abort = new AbortController();
  const stopped = waiter.wait("llama-3.2-1b", abort.signal);
  abort.abort(new Error("stopped"));
  await assert.rejects(stopped, /stopped/);
});
