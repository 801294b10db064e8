import { deepStrictEqual, equal, ok } from "node:assert/strict";
import OpenAI from "openai";
import { testApp, withServer } from "./_test_app.ts";

Deno.test("models.list lists the service's models in OpenAI's shape with exo's fields", async () => {
  const { app } = testApp();
  await withServer(app, async (client) => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    equal(models.length, 2);
    const [first, second] = models as unknown as Record<string, unknown>[];
    equal(first.id, "llama-3.2-1b");
    equal(first.object, "model");
    equal(first.owned_by, "exo");
    equal(first.name, "Llama 3.2 1B");
    equal(first.available_locally, true);
    equal(first.local_bytes, 1234567);
    equal(first.is_default, true);
    ok(Number.isInteger(first.created));
    equal(second.id, "HuggingFaceTB/SmolLM2-135M-Instruct");
    equal(second.available_locally, false);
    equal(second.local_bytes, null);
    equal(second.is_default, false);
  });
});

Deno.test("GET /v1/models and /v1/models/{id} carry each model's local_bytes and is_default", async () => {
  const { app, service } = testApp();
  service.modelList.splice(0, 2, {
    id: "test-org/tiny",
    name: "test-org/tiny",
    availableLocally: true,
    localBytes: 0,
    isDefault: false,
  }, {
    id: "/models/mine",
    name: "mine",
    availableLocally: true,
    localBytes: null,
    isDefault: true,
  });
  const list = await (await app.request("/v1/models")).json();
  deepStrictEqual(
    list.data.map((m: Record<string, unknown>) => [m.id, m.local_bytes, m.is_default]),
    [["test-org/tiny", 0, false], ["/models/mine", null, true]],
  );
  const one = await (await app.request("/v1/models/test-org/tiny")).json();
  equal(one.local_bytes, 0);
  equal(one.is_default, false);
  equal(one.available_locally, true);
  const local = await (await app.request(`/v1/models/${encodeURIComponent("/models/mine")}`))
    .json();
  equal(local.id, "/models/mine");
  equal(local.is_default, true);
  equal(local.local_bytes, null);
});

Deno.test("models.retrieve answers an org/name id, escaped or not", async () => {
  const { app } = testApp();
  await withServer(app, async (client, baseUrl) => {
    const model = await client.models.retrieve("HuggingFaceTB/SmolLM2-135M-Instruct");
    equal(model.id, "HuggingFaceTB/SmolLM2-135M-Instruct");
    const raw = await fetch(`${baseUrl}/v1/models/HuggingFaceTB/SmolLM2-135M-Instruct`);
    equal(raw.status, 200);
    equal((await raw.json()).name, "SmolLM2 135M");
  });
});

Deno.test("models.retrieve of an unknown model is a NotFoundError with code model_not_found", async () => {
  const { app } = testApp();
  await withServer(app, async (client) => {
    const error = await client.models.retrieve("nope/nothing").catch((e) => e);
    ok(error instanceof OpenAI.NotFoundError, String(error));
    equal(error.status, 404);
    equal(error.code, "model_not_found");
    equal(error.param, "model");
  });
  const response = await app.request("/v1/models/missing");
  deepStrictEqual(await response.json(), {
    error: {
      message: 'Model "missing" not found',
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    },
  });
});
