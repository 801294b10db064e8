import { equal, match, ok, rejects } from "node:assert/strict";
import OpenAI from "openai";
import { TEST_LIMITS, testApp, withServer } from "./_test_app.ts";

const KEY = "sk-local-0123456789";

function keyedApp() {
  return testApp(TEST_LIMITS, { access: { apiKey: KEY } }).app;
}

function clientWith(baseUrl: string, apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${baseUrl}/v1`, maxRetries: 0 });
}

Deno.test("the openai client with the node's --api-key lists models and chats over a socket", async () => {
  await withServer(keyedApp(), async (_client, baseUrl) => {
    const client = clientWith(baseUrl, KEY);
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    equal(models.length, 2);
    const completion = await client.chat.completions.create({
      model: "llama-3.2-1b",
      messages: [{ role: "user", content: "Hi" }],
    });
    equal(completion.choices[0].message.content, "Hello, world");
  });
});

Deno.test("the openai client with a wrong key gets an AuthenticationError (401 invalid_api_key)", async () => {
  await withServer(keyedApp(), async (_client, baseUrl) => {
    const client = clientWith(baseUrl, "sk-wrong");
    await rejects(
      () =>
        client.chat.completions.create({
          model: "llama-3.2-1b",
          messages: [{ role: "user", content: "Hi" }],
        }),
      (error: unknown) => {
        ok(error instanceof OpenAI.AuthenticationError, String(error));
        equal(error.status, 401);
        equal(error.code, "invalid_api_key");
        equal(error.type, "invalid_request_error");
        match(error.message, /Incorrect API key provided/);
        ok(!error.message.includes("sk-wrong"));
        return true;
      },
    );
  });
});

Deno.test("over a socket a keyed node answers /healthcheck without a key and a route with 401", async () => {
  await withServer(keyedApp(), async (_client, baseUrl) => {
    const health = await fetch(`${baseUrl}/healthcheck`);
    equal(health.status, 200);
    equal((await health.json()).status, "ok");
    const models = await fetch(`${baseUrl}/v1/models`);
    equal(models.status, 401);
    equal(models.headers.get("www-authenticate"), "Bearer");
    equal((await models.json()).error.code, "invalid_api_key");
  });
});

Deno.test("over a socket a cross-site request is refused and a loopback page is served", async () => {
  const { app, service } = testApp();
  await withServer(app, async (_client, baseUrl) => {
    const body = JSON.stringify({ messages: [{ role: "user", content: "Hi" }] });
    const refused = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { origin: "http://evil.example", "content-type": "text/plain" },
      body,
    });
    equal(refused.status, 403);
    equal(refused.headers.get("access-control-allow-origin"), null);
    equal((await refused.json()).error.code, "origin_not_allowed");
    equal(service.jobs.length, 0);
    const served = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { origin: "http://localhost:5173", "content-type": "application/json" },
      body,
    });
    equal(served.status, 200);
    equal(served.headers.get("access-control-allow-origin"), "http://localhost:5173");
    await served.body?.cancel();
    equal(service.jobs.length, 1);
  });
});

/** Sends a bare HTTP/1.1 GET with `host` as its Host header (fetch sets its own Host). */
async function getWithHost(port: number, path: string, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    return await new Response(conn.readable).text();
  } catch (error) {
    conn.close();
    throw error;
  }
}

Deno.test("over a socket a request naming another Host is refused with host_not_allowed", async () => {
  await withServer(testApp().app, async (_client, baseUrl) => {
    const port = Number(new URL(baseUrl).port);
    const refused = await getWithHost(port, "/v1/models", `evil.example:${port}`);
    match(refused, /^HTTP\/1\.1 403 /);
    match(refused, /"code":"host_not_allowed"/);
    match(await getWithHost(port, "/v1/models", `localhost:${port}`), /^HTTP\/1\.1 200 /);
  });
});
