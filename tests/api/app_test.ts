import { deepStrictEqual, equal, match, throws } from "node:assert/strict";
import { post, TEST_LIMITS, testApp } from "./_test_app.ts";
import { createApp } from "../../lib/api/app.ts";
import { FakeCompletionService } from "./_fake_service.ts";
import { ModelNotFoundError } from "../../lib/orchestration/errors.ts";

Deno.test("the app still serves healthcheck, topology and tensor-echo validation", async () => {
  const { app } = testApp();
  deepStrictEqual(await (await app.request("/healthcheck")).json(), {
    status: "ok",
    node_id: "node-a",
  });
  equal((await (await app.request("/v1/topology")).json()).node_id, "node-a");
  const echo = await post(app, "/v1/diagnostics/tensor-echo", { peer: "" });
  equal(echo.status, 400);
  equal((await echo.json()).error.param, "peer");
});

Deno.test("streamed answers and preflights to a loopback page carry CORS headers", async () => {
  const { app } = testApp();
  const preflight = await app.request("/v1/chat/completions", {
    method: "OPTIONS",
    headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
  });
  equal(preflight.status, 204);
  equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:5173");
  const stream = await app.request("/v1/chat/completions", {
    method: "POST",
    headers: { origin: "http://localhost:5173" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }),
  });
  equal(stream.headers.get("access-control-allow-origin"), "http://localhost:5173");
  match(stream.headers.get("vary")!, /Origin/);
  match(stream.headers.get("content-type")!, /^text\/event-stream/);
  match(await stream.text(), /data: \[DONE\]\n\n$/);
});

Deno.test("token encode maps an unknown model to 404 model_not_found", async () => {
  const { app, service } = testApp();
  service.encode = () => Promise.reject(new ModelNotFoundError("nope"));
  const response = await post(app, "/v1/chat/token/encode", { model: "nope", prompt: "x" });
  equal(response.status, 404);
  equal((await response.json()).error.code, "model_not_found");
});

Deno.test("createApp refuses limits that are not positive integers", () => {
  const deps = {
    nodeId: "n",
    topology: () => Promise.resolve({ node_id: "n", nodes: [], edges: [], partition: null }),
    echoTensor: () => Promise.reject(new Error("unused")),
    completions: new FakeCompletionService(),
  };
  throws(
    () => createApp({ ...deps, limits: { ...TEST_LIMITS, maxBodyBytes: 0 } }),
    /Cannot create the API: maxBodyBytes must be a positive integer, got 0/,
  );
  throws(
    () => createApp({ ...deps, limits: { ...TEST_LIMITS, maxGenerateTokens: 1.5 } }),
    /maxGenerateTokens/,
  );
});
