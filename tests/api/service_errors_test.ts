import { deepStrictEqual, equal, ok } from "node:assert/strict";
import OpenAI from "openai";
import { post, testApp, withServer } from "./_test_app.ts";
import { ContextLengthError } from "../../lib/inference/engine.ts";
import {
  ClusterUnavailableError,
  ModelNotFoundError,
  RequestFailedError,
} from "../../lib/orchestration/errors.ts";
import { HubAccessError } from "../../lib/model/hub_access_error.ts";

const user = [{ role: "user" as const, content: "Hi" }];

Deno.test("an unknown model is the client's NotFoundError with model_not_found and suggestions", async () => {
  const { app, service } = testApp();
  service.script = {
    ...service.script,
    failBeforeStart: new ModelNotFoundError("lama-3.2-1b", ["llama-3.2-1b"]),
  };
  await withServer(app, async (client) => {
    const error = await client.chat.completions.create({ model: "lama-3.2-1b", messages: user })
      .catch((e) => e);
    ok(error instanceof OpenAI.NotFoundError, String(error));
    equal(error.code, "model_not_found");
    equal(error.param, "model");
    ok(error.message.includes("did you mean llama-3.2-1b?"), error.message);
  });
});

Deno.test("a prompt over the context is a 400 context_length_exceeded naming the input", async () => {
  const { app, service } = testApp();
  service.script = {
    ...service.script,
    failBeforeStart: new ContextLengthError("prompt", 9000, 8192),
  };
  await withServer(app, async (client) => {
    const error = await client.chat.completions.create({
      model: "llama-3.2-1b",
      messages: user,
      stream: true,
    }).catch((e) => e);
    ok(error instanceof OpenAI.BadRequestError, String(error));
    equal(error.code, "context_length_exceeded");
    equal(error.param, "messages");
    ok(error.message.includes("9000 tokens exceed the model context of 8192"), error.message);
  });
  const text = await post(app, "/v1/completions", { prompt: "x" });
  equal(text.status, 400);
  equal((await text.json()).error.param, "prompt");
});

Deno.test("service failures before the answer map to 503, 500, 403 and 400 statuses", async () => {
  const { app, service } = testApp();
  const cases: [Error, number, string, string | null][] = [
    [
      new ClusterUnavailableError("no node holds layers 8-15"),
      503,
      "server_error",
      "cluster_unavailable",
    ],
    [new RequestFailedError("Node b timed out", "b"), 500, "server_error", null],
    [
      new HubAccessError("org/gated", 401, false),
      403,
      "invalid_request_error",
      "hub_access_denied",
    ],
    [new Error("boom"), 500, "server_error", null],
    [
      new RangeError("Cannot use top_k -1: must be an integer >= 0"),
      400,
      "invalid_request_error",
      null,
    ],
  ];
  for (const [failure, status, type, code] of cases) {
    for (const stream of [false, true]) {
      service.script = { ...service.script, failBeforeStart: failure };
      const response = await post(app, "/v1/chat/completions", { messages: user, stream });
      equal(response.status, status, failure.message);
      equal(response.headers.get("content-type"), "application/json");
      const { error } = await response.json();
      equal(error.type, type);
      equal(error.code, code);
      // Known failures arrive as the service wrote them; unexpected ones say so.
      const expected = status === 500 && !(failure instanceof RequestFailedError)
        ? `Internal error: ${failure.message}`
        : failure.message;
      equal(error.message, expected);
    }
  }
});

Deno.test("a failure while collecting a whole answer is a 500 JSON error", async () => {
  const { app, service } = testApp();
  service.script = {
    ...service.script,
    failMidStream: { afterDeltas: 2, error: new RequestFailedError("Node b went away") },
  };
  await withServer(app, async (client) => {
    const error = await client.completions.create({ model: "llama-3.2-1b", prompt: "x" })
      .catch((e) => e);
    ok(error instanceof OpenAI.InternalServerError, String(error));
    equal(error.message, "500 Node b went away");
  });
  deepStrictEqual(service.outcomes, ["failed"]);
});
