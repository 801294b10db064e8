// The model sizes the page shows: the registry's parameter counts, the memory factor
// measured on this engine, the coordinator's entries and GET /v1/models' fields.
import assert from "node:assert/strict";
import { MODEL_CARDS, modelSize, SERVING_BYTES_PER_PARAMETER } from "../../lib/model/registry.ts";
import { Coordinator, type CoordinatorOptions } from "../../lib/orchestration/coordinator.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { testApp } from "../api/_test_app.ts";

Deno.test("every registry model has its published parameter count", () => {
  for (const card of MODEL_CARDS.values()) {
    // The name says the size (`70b`, `135m`); the count is within a third of it.
    const named = /-(\d+(?:\.\d+)?)([mb])$/.exec(card.id);
    assert.ok(named !== null, `${card.id} names its size`);
    const nominal = Number(named[1]) * (named[2] === "b" ? 1e9 : 1e6);
    assert.ok(
      card.parameters >= nominal * 0.75 && card.parameters <= nominal * 1.34,
      `${card.id}: ${card.parameters} parameters for a nominal ${nominal}`,
    );
  }
  assert.equal(MODEL_CARDS.get("llama-3.2-1b")!.parameters, 1.24e9);
  assert.equal(MODEL_CARDS.get("llama-3.1-70b")!.parameters, 70.6e9);
});

Deno.test("modelSize: bf16 download bytes, and memory at the shards' dtype from the measured factor", () => {
  const llama = MODEL_CARDS.get("llama-3.2-1b")!;
  assert.deepEqual(modelSize(llama, "q4"), {
    parameters: 1.24e9,
    downloadBytes: 2.48e9,
    memoryBytes: Math.round(1.24e9 * 0.95),
  });
  assert.equal(modelSize(llama, null).memoryBytes, null, "no dtype, no memory figure");
  // bench:engine, llama-3.2-1b shape (1.236e9 parameters): peak RSS over a 512-token
  // prompt and 200 tokens, 2 threads. The factor must cover what was measured.
  const measured = { q4: 1_167_216_640, float32: 5_248_712_704 };
  for (const [dtype, peak] of Object.entries(measured) as [keyof typeof measured, number][]) {
    const estimate = 1.236e9 * SERVING_BYTES_PER_PARAMETER[dtype];
    assert.ok(
      estimate >= peak && estimate <= peak * 1.05,
      `${dtype}: ${estimate} for ${peak}`,
    );
  }
  assert.ok(SERVING_BYTES_PER_PARAMETER.float16 < SERVING_BYTES_PER_PARAMETER.float32);
  assert.ok(SERVING_BYTES_PER_PARAMETER.float16 > SERVING_BYTES_PER_PARAMETER.q4);
});

function coordinator(extra: Record<string, unknown>): Coordinator {
  const options: CoordinatorOptions = {
    selfId: "a",
    resolver: new ModelResolver({ hubCache: "/nonexistent-hub" }),
    view: () => ({ selfId: "a", nodes: [], edges: [] }),
    waitForPeers: () => Promise.resolve(),
    send: () => Promise.resolve(),
    logger: silentLogger,
    maxGenerateTokens: 100,
    responseTimeoutMs: 60_000,
    waitForPeerCount: 0,
    defaultModel: "someone/elsewhere",
  };
  return new Coordinator({ ...options, ...extra });
}

Deno.test("Coordinator.models sizes registry models; memory once it knows the shards' dtype", async () => {
  const unknown = await coordinator({}).models();
  const llama = unknown.find((m) => m.id === "llama-3.2-1b")!;
  assert.deepEqual(llama.size, { parameters: 1.24e9, downloadBytes: 2.48e9, memoryBytes: null });
  const elsewhere = unknown.find((m) => m.id === "someone/elsewhere")!;
  assert.equal(elsewhere.size, undefined, "a hub repo outside the registry has no size");

  const q4 = await coordinator({ dtype: "q4" }).models();
  assert.equal(q4.find((m) => m.id === "llama-3.2-1b")!.size?.memoryBytes, 1_178_000_000);
  const f16 = await coordinator({ dtype: "float16" }).models();
  assert.equal(f16.find((m) => m.id === "llama-3.1-70b")!.size?.memoryBytes, 149_672_000_000);
});

Deno.test("GET /v1/models gives parameters, download_bytes and memory_bytes, null when unknown", async () => {
  const { app, service } = testApp();
  service.modelList[0].size = modelSize(MODEL_CARDS.get("llama-3.1-70b")!, "q4");
  const body: { data: Record<string, unknown>[] } = await (await app.request("/v1/models"))
    .json();
  const [sized, repo] = body.data;
  assert.deepEqual([sized.parameters, sized.download_bytes, sized.memory_bytes], [
    70.6e9,
    141.2e9,
    Math.round(70.6e9 * 0.95),
  ]);
  assert.deepEqual([repo.parameters, repo.download_bytes, repo.memory_bytes], [null, null, null]);
  const one = await (await app.request(`/v1/models/${sized.id}`)).json();
  assert.equal(one.memory_bytes, sized.memory_bytes);
});
