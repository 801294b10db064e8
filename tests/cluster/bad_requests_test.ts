import assert from "node:assert/strict";
import { stopAll } from "../_helpers/node_process.ts";
import { writeTestModel } from "./_model.ts";
import { startServingCluster } from "./_serving.ts";

interface BadRequest {
  name: string;
  path?: string;
  body: unknown;
  status: number;
  param?: string | null;
  code?: string | null;
  /** Words the message must contain. */
  says: string;
}

const user = [{ role: "user", content: "Hi" }];

function cases(modelDir: string): BadRequest[] {
  return [
    { name: "bad JSON", body: '{"messages": [', status: 400, param: null, says: "Invalid JSON" },
    { name: "a JSON array", body: "[]", status: 400, param: null, says: "JSON object" },
    { name: "no messages", body: {}, status: 400, param: "messages", says: "missing" },
    {
      name: "empty messages",
      body: { messages: [] },
      status: 400,
      param: "messages",
      says: "empty",
    },
    {
      name: "messages a string",
      body: { messages: "Hi" },
      status: 400,
      param: "messages",
      says: "array",
    },
    {
      name: "a role-less message",
      body: { messages: [{ content: "Hi" }] },
      status: 400,
      param: "messages[0].role",
      says: "missing",
    },
    {
      name: "content a number",
      body: { messages: [{ role: "user", content: 7 }] },
      status: 400,
      param: "messages[0].content",
      says: "7",
    },
    {
      name: "an image part",
      body: {
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
      },
      status: 400,
      param: "messages[0].content[0].type",
      says: "image_url",
    },
    {
      name: "temperature -1",
      body: { messages: user, temperature: -1 },
      status: 400,
      param: "temperature",
      says: "temperature",
    },
    {
      name: "temperature a word",
      body: { messages: user, temperature: "hot" },
      status: 400,
      param: "temperature",
      says: "number",
    },
    {
      name: "top_p 0",
      body: { messages: user, top_p: 0 },
      status: 400,
      param: "top_p",
      says: "top_p",
    },
    {
      name: "max_tokens 0",
      body: { messages: user, max_tokens: 0 },
      status: 400,
      param: "max_tokens",
      says: "max_tokens",
    },
    {
      name: "max_tokens 1.5",
      body: { messages: user, max_tokens: 1.5 },
      status: 400,
      param: "max_tokens",
      says: "integer",
    },
    { name: "n 2", body: { messages: user, n: 2 }, status: 400, param: "n", says: "n" },
    {
      name: "5 stop strings",
      body: { messages: user, stop: ["a", "b", "c", "d", "e"] },
      status: 400,
      param: "stop",
      says: "4",
    },
    {
      name: "seed 1.5",
      body: { messages: user, seed: 1.5 },
      status: 400,
      param: "seed",
      says: "integer",
    },
    {
      name: "stream a word",
      body: { messages: user, stream: "yes" },
      status: 400,
      param: "stream",
      says: "boolean",
    },
    {
      name: "an unknown field",
      body: { messages: user, colour: "red" },
      status: 400,
      param: "colour",
      says: "Unrecognized request argument",
    },
    {
      name: "an unknown model",
      body: { model: "llama-3.2-1bb", messages: user },
      status: 404,
      param: "model",
      code: "model_not_found",
      says: "did you mean llama-3.2-1b",
    },
    {
      name: "a known model that is not on this node",
      body: { model: "qwen-2.5-72b", messages: user },
      status: 404,
      code: "model_not_found",
      says: "not downloaded on this node",
    },
    {
      name: "a prompt over the context",
      path: "/v1/completions",
      body: { model: modelDir, prompt: Array.from({ length: 5000 }, () => 65) },
      status: 400,
      code: "context_length_exceeded",
      says: "5000 tokens exceed the model context of 4096",
    },
    {
      name: "a token id outside the vocabulary",
      path: "/v1/completions",
      body: { model: modelDir, prompt: [1, 100000] },
      status: 400,
      says: "100000",
    },
    {
      name: "a completion without prompt",
      path: "/v1/completions",
      body: {},
      status: 400,
      param: "prompt",
      says: "missing",
    },
    {
      name: "a body over 4 MiB",
      body: { messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] },
      status: 413,
      code: "request_too_large",
      says: "",
    },
  ];
}

Deno.test({
  name: "A live node answers 24 malformed requests with OpenAI errors and keeps serving",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-bad-" });
    let nodes: Awaited<ReturnType<typeof startServingCluster>>["nodes"] = [];
    try {
      const model = await writeTestModel(dir);
      ({ nodes } = await startServingCluster(dir, ["solo"], model.dir));
      const [node] = nodes;
      const all = cases(model.dir);
      assert.ok(all.length >= 20);
      for (const bad of all) {
        const body = typeof bad.body === "string" ? bad.body : JSON.stringify(bad.body);
        const response = await fetch(`${node.url}${bad.path ?? "/v1/chat/completions"}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const answer = await response.json();
        assert.equal(response.status, bad.status, `${bad.name}: ${JSON.stringify(answer)}`);
        const { error } = answer;
        assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"], bad.name);
        assert.equal(error.type, "invalid_request_error", bad.name);
        if (bad.param !== undefined) assert.equal(error.param, bad.param, bad.name);
        if (bad.code !== undefined) assert.equal(error.code, bad.code, bad.name);
        assert.ok(error.message.includes(bad.says), `${bad.name}: ${error.message}`);
      }
      // Huge max_tokens is capped at --max-generate-tokens (64 here), not refused.
      const capped = await fetch(`${node.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ messages: user, max_tokens: 10 ** 12, temperature: 0 }),
      });
      assert.equal(capped.status, 200);
      assert.ok((await capped.json()).usage.completion_tokens <= 64);
      const health = await fetch(`${node.url}/healthcheck`);
      assert.equal((await health.json()).status, "ok");
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
