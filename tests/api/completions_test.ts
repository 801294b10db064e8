import { deepStrictEqual, equal, match } from "node:assert/strict";
import { post, testApp, withServer } from "./_test_app.ts";

Deno.test("text completion answers a string prompt as text_completion", async () => {
  const { app, service } = testApp();
  await withServer(app, async (client) => {
    const completion = await client.completions.create({
      model: "llama-3.2-1b",
      prompt: "Once upon",
      max_tokens: 16,
      stop: "\n",
    });
    equal(completion.object, "text_completion");
    match(completion.id, /^cmpl-\w+$/);
    deepStrictEqual(completion.choices, [
      { text: "Hello, world", index: 0, logprobs: null, finish_reason: "stop" },
    ]);
    deepStrictEqual(completion.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });
  deepStrictEqual(service.lastJob.input, { prompt: "Once upon" });
  equal(service.lastJob.maxTokens, 16);
  deepStrictEqual(service.lastJob.stop, ["\n"]);
});

Deno.test("text completion streams token-array prompts as text_completion chunks", async () => {
  const { app, service } = testApp();
  await withServer(app, async (client) => {
    const stream = await client.completions.create({
      model: "llama-3.2-1b",
      prompt: [1, 2, 3],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    equal(new Set(chunks.map((c) => c.id)).size, 1);
    deepStrictEqual(chunks.map((c) => c.object), Array(5).fill("text_completion"));
    deepStrictEqual(chunks.map((c) => c.choices), [
      [{ text: "Hello", index: 0, logprobs: null, finish_reason: null }],
      [{ text: ", ", index: 0, logprobs: null, finish_reason: null }],
      [{ text: "world", index: 0, logprobs: null, finish_reason: null }],
      [{ text: "", index: 0, logprobs: null, finish_reason: "stop" }],
      [],
    ]);
    deepStrictEqual(chunks.at(-1)!.usage, {
      prompt_tokens: 7,
      completion_tokens: 3,
      total_tokens: 10,
    });
  });
  deepStrictEqual(service.lastJob.input, { promptTokens: [1, 2, 3] });
});

Deno.test("text completion takes a one-element prompt array of a string or of tokens", async () => {
  const { app, service } = testApp();
  const text = await post(app, "/completions", { prompt: ["Hi"] });
  equal(text.status, 200);
  await text.body?.cancel();
  deepStrictEqual(service.lastJob.input, { prompt: "Hi" });
  const tokens = await post(app, "/v1/completions", { prompt: [[5, 6]] });
  equal(tokens.status, 200);
  await tokens.body?.cancel();
  deepStrictEqual(service.lastJob.input, { promptTokens: [5, 6] });
  equal(service.lastJob.model, "llama-3.2-1b", "the default model");
  equal(service.lastJob.maxTokens, undefined, "the node's default budget");
});
