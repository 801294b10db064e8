import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import OpenAI from "openai";
import { testApp, withServer } from "./_test_app.ts";
import { RequestFailedError } from "../../lib/orchestration/errors.ts";

Deno.test("chat completion answers the openai client with the whole text and usage", async () => {
  const { app, service } = testApp();
  await withServer(app, async (client) => {
    const completion = await client.chat.completions.create({
      model: "llama-3.2-1b",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hi" }, { type: "text", text: "there" }] },
      ],
      max_tokens: 1_000_000,
      stop: ["\n", "END"],
      seed: 42,
    });
    equal(completion.object, "chat.completion");
    match(completion.id, /^chatcmpl-\w+$/);
    equal(completion.model, "llama-3.2-1b");
    ok(Number.isInteger(completion.created));
    deepStrictEqual(completion.choices, [{
      index: 0,
      message: { role: "assistant", content: "Hello, world", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }]);
    deepStrictEqual(completion.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });
  deepStrictEqual(service.lastJob, {
    model: "llama-3.2-1b",
    input: {
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi\nthere" }],
    },
    maxTokens: 100,
    sampling: { temperature: 1, topP: 1, topK: 0 },
    seed: 42,
    stop: ["\n", "END"],
  });
  deepStrictEqual(service.outcomes, ["completed"]);
});

Deno.test("chat completion streams a role chunk, the deltas, the finish and usage chunks", async () => {
  const { app, service } = testApp();
  service.script = { deltas: ["Hel", "", "lo"], finishReason: "length", promptTokens: 4 };
  await withServer(app, async (client) => {
    const stream = await client.chat.completions.create({
      model: "llama-3.2-1b",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
      top_p: 0.5,
      max_completion_tokens: 5,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    equal(new Set(chunks.map((c) => c.id)).size, 1);
    equal(new Set(chunks.map((c) => c.created)).size, 1);
    ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "llama-3.2-1b"));
    deepStrictEqual(chunks.map((c) => c.choices), [
      [{
        index: 0,
        delta: { role: "assistant", content: "" },
        logprobs: null,
        finish_reason: null,
      }],
      [{ index: 0, delta: { content: "Hel" }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: "lo" }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: "length" }],
      [],
    ]);
    deepStrictEqual(chunks.map((c) => c.usage), [
      null,
      null,
      null,
      null,
      { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    ]);
  });
  deepStrictEqual(service.lastJob.sampling, { temperature: 0, topP: 0.5, topK: 0 });
  equal(service.lastJob.maxTokens, 5);
});

Deno.test("chat completion stream without include_usage has no usage field and ends with [DONE]", async () => {
  const { app } = testApp();
  await withServer(app, async (_client, baseUrl) => {
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    equal(response.status, 200);
    match(response.headers.get("content-type")!, /^text\/event-stream/);
    const events = (await response.text()).split("\n\n").filter((e) => e !== "");
    ok(events.every((e) => e.startsWith("data: ")));
    equal(events.at(-1), "data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    equal(chunks.length, 5);
    ok(chunks.every((c) => !("usage" in c)));
    equal(chunks.map((c) => c.choices[0].delta.content ?? "").join(""), "Hello, world");
  });
});

Deno.test("a client leaving mid-stream cancels the completion", async () => {
  const { app, service } = testApp();
  service.script = { deltas: ["a", "b", "c"], finishReason: "stop", promptTokens: 1, hangAfter: 1 };
  await withServer(app, async (client) => {
    const ended = service.nextOutcome();
    const stream = await client.chat.completions.create({
      model: "llama-3.2-1b",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    const seen = [];
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta.content);
      if (seen.length === 2) break;
    }
    deepStrictEqual(seen, ["", "a"]);
    equal(await ended, "cancelled");
    ok(service.signals[0].aborted);
  });
});

Deno.test("a fetch aborted mid-stream cancels the completion", async () => {
  const { app, service } = testApp();
  service.script = { deltas: ["a", "b"], finishReason: "stop", promptTokens: 1, hangAfter: 1 };
  await withServer(app, async (_client, baseUrl) => {
    const ended = service.nextOutcome();
    const abort = new AbortController();
    const response = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    equal(service.signals[0].aborted, false, "a started stream is not aborted");
    abort.abort();
    await rejects(reader.read());
    equal(await ended, "cancelled");
  });
});

Deno.test("a failure mid-stream reaches the openai client as an APIError", async () => {
  const { app, service } = testApp();
  service.script = {
    deltas: ["a", "b"],
    finishReason: "stop",
    promptTokens: 1,
    failMidStream: { afterDeltas: 1, error: new RequestFailedError("Node b went away", "b") },
  };
  await withServer(app, async (client) => {
    const stream = await client.chat.completions.create({
      model: "llama-3.2-1b",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    const seen: string[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    ok(error instanceof OpenAI.APIError, String(error));
    match(error.message, /Node b went away/);
    equal(error.type, "server_error");
    deepStrictEqual(seen, ["", "a"]);
  });
  deepStrictEqual(service.outcomes, ["failed"]);
});

Deno.test("a raw mid-stream failure is one error event and no [DONE]", async () => {
  const { app, service } = testApp();
  service.script = {
    deltas: ["a"],
    finishReason: "stop",
    promptTokens: 1,
    failMidStream: { afterDeltas: 0, error: new RequestFailedError("Node b timed out") },
  };
  const response = await app.request("/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }),
  });
  const events = (await response.text()).split("\n\n").filter((e) => e !== "");
  equal(events.length, 2);
  deepStrictEqual(JSON.parse(events[1].slice(6)), {
    error: { message: "Node b timed out", type: "server_error", param: null, code: null },
  });
});

Deno.test("a client leaving before a whole answer is ready cancels the completion", async () => {
  const { app, service } = testApp();
  service.script = { deltas: ["a", "b"], finishReason: "stop", promptTokens: 1, hangAfter: 1 };
  await withServer(app, async (_client, baseUrl) => {
    const ended = service.nextOutcome();
    const abort = new AbortController();
    const response = fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
      signal: abort.signal,
    });
    await service.started();
    abort.abort();
    await rejects(response);
    equal(await ended, "cancelled");
    ok(service.signals[0].aborted);
  });
});

Deno.test("cancelling a stream between chunks returns the deltas generator", async () => {
  const { app, service } = testApp();
  service.script = { deltas: ["a", "b", "c"], finishReason: "stop", promptTokens: 1 };
  const ended = service.nextOutcome();
  const response = await app.request("/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }),
  });
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  match(first, /"role":"assistant"/);
  await reader.read();
  await reader.cancel();
  equal(await ended, "cancelled");
  ok(service.signals[0].aborted);
});
