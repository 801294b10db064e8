import assert from "node:assert/strict";
import {
  type ChatEvent,
  eventsOf,
  readChatStream,
  replyStats,
} from "../../web/src/lib/chat_stream.ts";

function body(text: string, chunk = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

async function collect(text: string, chunk?: number) {
  const events: ChatEvent[] = [];
  const stream = readChatStream(body(text, chunk));
  let next = await stream.next();
  while (!next.done) {
    events.push(next.value);
    next = await stream.next();
  }
  return { events, end: next.value };
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra = {}) =>
  `data: ${
    JSON.stringify({
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...extra,
    })
  }\n\n`;

Deno.test("readChatStream yields text, the finish reason and usage, then ends at [DONE]", async () => {
  const text = chunk({ role: "assistant", content: "" }) + chunk({ content: "Hé" }) +
    chunk({ content: "llo 🌍" }) + chunk({}, "stop") +
    `data: ${
      JSON.stringify({
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      })
    }\n\n` +
    "data: [DONE]\n\n";
  // 3-byte chunks cut the multi-byte characters in half.
  const { events, end } = await collect(text, 3);
  assert.deepEqual(events, [
    { type: "delta", text: "Hé" },
    { type: "delta", text: "llo 🌍" },
    { type: "finish", reason: "stop" },
    { type: "usage", usage: { promptTokens: 5, completionTokens: 3 } },
  ]);
  assert.deepEqual(end, { done: true });
});

Deno.test("readChatStream reports a stream cut before [DONE]", async () => {
  const { events, end } = await collect(chunk({ content: "partial" }));
  assert.deepEqual(events, [{ type: "delta", text: "partial" }]);
  assert.deepEqual(end, { done: false });
});

Deno.test("eventsOf turns the API's error event and garbage into readable errors", () => {
  assert.deepEqual(
    eventsOf(
      JSON.stringify({ error: { message: "Node mac2 left the cluster during the request" } }),
    ),
    [{ type: "error", message: "Node mac2 left the cluster during the request" }],
  );
  const [notJson] = eventsOf("{oops");
  assert.equal(notJson.type, "error");
  assert.match((notJson as { message: string }).message, /not JSON: \{oops/);
  assert.equal(eventsOf("42")[0].type, "error");
  assert.deepEqual(eventsOf(JSON.stringify({ choices: [null, { delta: { content: 5 } }] })), []);
});

Deno.test("replyStats measures decoding after the first token and time to first token", () => {
  const stats = replyStats(
    { sentAt: 1000, firstTextAt: 1250, endedAt: 3250 },
    { promptTokens: 9, completionTokens: 41 },
    "length",
  );
  assert.deepEqual(stats, {
    ttftMs: 250,
    tokensPerSecond: 20,
    completionTokens: 41,
    promptTokens: 9,
    finishReason: "length",
  });
  const none = replyStats({ sentAt: 0, firstTextAt: null, endedAt: 50 }, null, "error");
  assert.equal(none.ttftMs, null);
  assert.equal(none.tokensPerSecond, null);
  assert.equal(none.completionTokens, null);
  const one = replyStats({ sentAt: 0, firstTextAt: 10, endedAt: 10 }, {
    promptTokens: 1,
    completionTokens: 1,
  }, "stop");
  assert.equal(one.tokensPerSecond, null, "one token gives no decode rate");
});
