import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { post, TEST_LIMITS, testApp, withServer } from "./_test_app.ts";

interface Case {
  name: string;
  body: unknown;
  path?: string;
  status?: number;
  param: string | null;
  /** Words the message must contain. */
  says: string;
  code?: string | null;
}

const user = [{ role: "user", content: "Hi" }];

const CASES: Case[] = [
  { name: "bad JSON", body: '{"messages": [', param: null, says: "Invalid JSON body" },
  { name: "empty body", body: "", param: null, says: "empty" },
  { name: "JSON array body", body: "[1]", param: null, says: "must be a JSON object" },
  { name: "messages missing", body: {}, param: "messages", says: "messages: missing" },
  { name: "messages empty", body: { messages: [] }, param: "messages", says: "must not be empty" },
  { name: "messages not an array", body: { messages: "Hi" }, param: "messages", says: "array" },
  {
    name: "message not an object",
    body: { messages: ["Hi"] },
    param: "messages[0]",
    says: "object",
  },
  {
    name: "message without role",
    body: { messages: [{ content: "Hi" }] },
    param: "messages[0].role",
    says: "missing",
  },
  {
    name: "bad role",
    body: { messages: [...user, { role: "robot", content: "x" }] },
    param: "messages[1].role",
    says: '"robot"',
  },
  {
    name: "tool role",
    body: { messages: [{ role: "tool", content: "x" }] },
    param: "messages[0].role",
    says: '"tool"',
  },
  {
    name: "content a number",
    body: { messages: [{ role: "user", content: 5 }] },
    param: "messages[0].content",
    says: "got 5",
  },
  {
    name: "user content missing",
    body: { messages: [{ role: "user" }] },
    param: "messages[0].content",
    says: "missing",
  },
  {
    name: "image content part",
    body: {
      messages: [...user, {
        role: "user",
        content: [{ type: "image_url", image_url: { url: "http://x" } }],
      }],
    },
    param: "messages[1].content[0].type",
    says: '"image_url"',
  },
  {
    name: "text part without text",
    body: { messages: [{ role: "user", content: [{ type: "text" }] }] },
    param: "messages[0].content[0].text",
    says: "must be a string",
  },
  {
    name: "temperature -1",
    body: { messages: user, temperature: -1 },
    param: "temperature",
    says: "got -1",
  },
  {
    name: "temperature 3",
    body: { messages: user, temperature: 3 },
    param: "temperature",
    says: "0 to 2, got 3",
  },
  {
    name: "temperature hot",
    body: { messages: user, temperature: "hot" },
    param: "temperature",
    says: '"hot"',
  },
  {
    name: "top_p 0",
    body: { messages: user, top_p: 0 },
    param: "top_p",
    says: "above 0 to 1, got 0",
  },
  { name: "top_p 1.5", body: { messages: user, top_p: 1.5 }, param: "top_p", says: "got 1.5" },
  {
    name: "max_tokens 0",
    body: { messages: user, max_tokens: 0 },
    param: "max_tokens",
    says: "positive integer, got 0",
  },
  {
    name: "max_tokens -5",
    body: { messages: user, max_tokens: -5 },
    param: "max_tokens",
    says: "got -5",
  },
  {
    name: "max_tokens 1.5",
    body: { messages: user, max_tokens: 1.5 },
    param: "max_tokens",
    says: "got 1.5",
  },
  {
    name: "max_tokens string",
    body: { messages: user, max_tokens: "10" },
    param: "max_tokens",
    says: '"10"',
  },
  {
    name: "max_completion_tokens 0",
    body: { messages: user, max_completion_tokens: 0 },
    param: "max_completion_tokens",
    says: "positive integer",
  },
  { name: "n 2", body: { messages: user, n: 2 }, param: "n", says: "only one choice" },
  {
    name: "stop with 5 strings",
    body: { messages: user, stop: ["a", "b", "c", "d", "e"] },
    param: "stop",
    says: "at most 4 strings, got 5",
  },
  { name: "stop a number", body: { messages: user, stop: 7 }, param: "stop", says: "got 7" },
  {
    name: "stop item a number",
    body: { messages: user, stop: ["a", 1] },
    param: "stop[1]",
    says: "got 1",
  },
  {
    name: "seed 1.5",
    body: { messages: user, seed: 1.5 },
    param: "seed",
    says: "integer, got 1.5",
  },
  { name: "stream yes", body: { messages: user, stream: "yes" }, param: "stream", says: "boolean" },
  {
    name: "stream_options without stream",
    body: { messages: user, stream_options: { include_usage: true } },
    param: "stream_options",
    says: "only allowed when stream is true",
  },
  {
    name: "include_usage not a boolean",
    body: { messages: user, stream: true, stream_options: { include_usage: 1 } },
    param: "stream_options.include_usage",
    says: "boolean",
  },
  {
    name: "unknown field",
    body: { messages: user, temprature: 1 },
    param: "temprature",
    says: "Unrecognized request argument supplied: temprature",
  },
  {
    name: "unsupported penalty",
    body: { messages: user, frequency_penalty: 0.5 },
    param: "frequency_penalty",
    says: "only 0",
    code: "unsupported_parameter",
  },
  {
    name: "tools",
    body: { messages: user, tools: [{ type: "function" }] },
    param: "tools",
    says: "Unsupported tools",
    code: "unsupported_parameter",
  },
  {
    name: "model a number",
    body: { model: 3, messages: user },
    param: "model",
    says: "non-empty string",
  },
  {
    name: "prompt missing",
    path: "/v1/completions",
    body: {},
    param: "prompt",
    says: "prompt: missing",
  },
  {
    name: "prompt a number",
    path: "/v1/completions",
    body: { prompt: 4 },
    param: "prompt",
    says: "got 4",
  },
  {
    name: "prompt with a bad token",
    path: "/v1/completions",
    body: { prompt: [1, -2] },
    param: "prompt[1]",
    says: "token id",
  },
  {
    name: "two prompts",
    path: "/v1/completions",
    body: { prompt: ["a", "b"] },
    param: "prompt",
    says: "only one prompt",
  },
  {
    name: "messages on the text route",
    path: "/v1/completions",
    body: { prompt: "x", messages: user },
    param: "messages",
    says: "Unrecognized request argument",
  },
  {
    name: "echo on the text route",
    path: "/v1/completions",
    body: { prompt: "x", echo: true },
    param: "echo",
    says: "Unsupported echo",
    code: "unsupported_parameter",
  },
  {
    name: "oversized body with content-length",
    body: { messages: [{ role: "user", content: "x".repeat(TEST_LIMITS.maxBodyBytes) }] },
    status: 413,
    param: null,
    says: `limit is ${TEST_LIMITS.maxBodyBytes} bytes`,
    code: "request_too_large",
  },
];

Deno.test("malformed requests get a 400 naming the field, and no job starts", async () => {
  const { app, service } = testApp();
  for (const c of CASES) {
    const text = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
    const response = await app.request(c.path ?? "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(text.length) },
      body: text,
    });
    equal(response.status, c.status ?? 400, c.name);
    const { error } = await response.json();
    equal(error.type, "invalid_request_error", c.name);
    equal(error.param, c.param, c.name);
    ok(error.message.includes(c.says), `${c.name}: ${error.message}`);
    if (c.code !== undefined) equal(error.code, c.code, c.name);
  }
  equal(service.jobs.length, 0);
  const valid = await post(app, "/v1/chat/completions", { messages: user });
  equal(valid.status, 200);
  equal((await valid.json()).choices[0].message.content, "Hello, world");
});

Deno.test("a body over the limit without content-length gets 413", async () => {
  const { app, service } = testApp();
  const chunk = new TextEncoder().encode(" ".repeat(1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 8) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const response = await app.request("/v1/chat/completions", {
    method: "POST",
    body,
    duplex: "half",
  } as RequestInit);
  equal(response.status, 413);
  equal((await response.json()).error.code, "request_too_large");
  equal(service.jobs.length, 0);
});

Deno.test("a chunked body over the limit sent through the server gets 413", async () => {
  const { app } = testApp();
  await withServer(app, async (_client, baseUrl) => {
    const chunk = new TextEncoder().encode(" ".repeat(1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${baseUrl}/v1/chat/completions`, { method: "POST", body });
    equal(response.status, 413);
    equal((await response.json()).error.type, "invalid_request_error");
  });
});

Deno.test("a request without a model and no default model gets a 400 for model", async () => {
  const { app, service } = testApp({ ...TEST_LIMITS, defaultModel: undefined });
  const response = await post(app, "/v1/chat/completions", { messages: user });
  equal(response.status, 400);
  const { error } = await response.json();
  equal(error.param, "model");
  ok(error.message.includes("no default model"), error.message);
  equal(service.jobs.length, 0);
});

Deno.test("null reads as absent and neutral values of unsupported fields are accepted", async () => {
  const { app, service } = testApp();
  const response = await post(app, "/v1/chat/completions", {
    model: null,
    messages: [...user, { role: "assistant", content: null, refusal: null }],
    temperature: null,
    stop: null,
    frequency_penalty: 0,
    presence_penalty: 0,
    logprobs: false,
    tools: [],
    response_format: { type: "text" },
    user: "someone",
    metadata: { a: "b" },
  });
  equal(response.status, 200);
  await response.body?.cancel();
  deepStrictEqual(service.lastJob, {
    model: "llama-3.2-1b",
    input: { messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "" }] },
    sampling: { temperature: 1, topP: 1, topK: 0 },
    stop: [],
  });
});

Deno.test("unknown routes get a 404 and a known route's other methods a 405 with Allow, in OpenAI's shape", async () => {
  const { app } = testApp();
  const cases: [string, string, number, string | null][] = [
    ["POST", "/v1/nothing", 404, null],
    ["GET", "/v1/chat/completions", 405, "POST"],
    ["DELETE", "/v1/completions", 405, "POST"],
    ["POST", "/v1/models", 405, "GET, HEAD"],
    ["PUT", "/v1/models/org/name", 405, "GET, HEAD"],
    ["POST", "/healthcheck", 405, "GET, HEAD"],
  ];
  for (const [method, path, status, allow] of cases) {
    const response = await app.request(path, { method });
    equal(response.status, status, `${method} ${path}`);
    equal(response.headers.get("allow"), allow, `${method} ${path}`);
    const body = await response.json();
    equal(body.error.type, "invalid_request_error");
    if (status === 405) equal(body.error.code, "method_not_allowed");
  }
});
