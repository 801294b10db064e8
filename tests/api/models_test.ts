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
    ok(Number.isInteger(first.created));
    equal(second.id, "HuggingFaceTB/SmolLM2-135M-Instruct");
    equal(second.available_locally, false);
  });
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
