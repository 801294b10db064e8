import { deepStrictEqual, equal } from "node:assert/strict";
import { post, testApp } from "./_test_app.ts";

Deno.test("token encode renders and encodes chat messages", async () => {
  const { app } = testApp();
  const response = await post(app, "/v1/chat/token/encode", {
    model: "llama-3.2-1b",
    messages: [{ role: "user", content: "Hi" }],
    temperature: 0.3,
  });
  equal(response.status, 200);
  const prompt = "<user>Hi<assistant>";
  deepStrictEqual(await response.json(), {
    length: prompt.length,
    num_tokens: prompt.length,
    encoded_tokens: [...prompt].map((ch) => ch.codePointAt(0)),
    encoded_prompt: prompt,
  });
});

Deno.test("token encode takes a prompt and names the missing input", async () => {
  const { app } = testApp();
  const response = await post(app, "/v1/chat/token/encode", { prompt: "abc" });
  deepStrictEqual(await response.json(), {
    length: 3,
    num_tokens: 3,
    encoded_tokens: [97, 98, 99],
    encoded_prompt: "abc",
  });
  const missing = await post(app, "/v1/chat/token/encode", { model: "x" });
  equal(missing.status, 400);
  equal((await missing.json()).error.param, "messages");
});
