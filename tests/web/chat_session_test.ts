import assert from "node:assert/strict";
import { ApiClient } from "../../web/src/lib/api_client.ts";
import { ChatSession, type ChatSessionDeps } from "../../web/src/lib/chat_session.ts";
import { DEFAULT_SETTINGS, HistoryStore } from "../../web/src/lib/history_store.ts";
import { MemoryStorage } from "./_memory_storage.ts";

const MODEL = "llama-3.2-1b";
const encoder = new TextEncoder();

function sse(...events: unknown[]): string {
  return events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("");
}

const delta = (content: string) => ({
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});
const finish = (reason: string) => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });
const usage = (completion: number) => ({
  choices: [],
  usage: { prompt_tokens: 4, completion_tokens: completion },
});

/** A fetch that answers each request with the next scripted response, recording bodies. */
class FakeFetch {
  readonly bodies: Record<string, unknown>[] = [];
  readonly responses: (((signal: AbortSignal) => Response) | Error)[] = [];
  readonly fetch = (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    this.bodies.push(JSON.parse(String(init?.body ?? "{}")));
    const next = this.responses.shift();
    if (next === undefined) throw new Error("No scripted response left");
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(next(init!.signal!));
  };
}

function streamOf(text: string): () => Response {
  return () => new Response(text, { headers: { "content-type": "text/event-stream" } });
}

/** A stream that sends `first` and then waits until aborted. */
function hanging(first: string): (signal: AbortSignal) => Response {
  return (signal) =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode(first));
          signal.addEventListener("abort", () => controller.error(signal.reason));
        },
      }),
    );
}

function session(fetcher: FakeFetch, storage = new MemoryStorage(), clock = { t: 0 }) {
  let ids = 0;
  const changes: number[] = [];
  const problems: Error[] = [];
  const deps: ChatSessionDeps = {
    client: new ApiClient("http://127.0.0.1:9", () => "secret", fetcher.fetch),
    store: new HistoryStore(storage),
    now: () => (clock.t += 100),
    wallClock: () => 1_700_000_000_000 + clock.t,
    newId: () => `id${++ids}`,
    waitForModel: () => Promise.resolve(),
    onChange: () => changes.push(clock.t),
    onProblem: (error) => problems.push(error),
  };
  return { chat: new ChatSession(deps), changes, problems, storage };
}

Deno.test("ChatSession streams a reply into a new conversation with its figures", async () => {
  const fetcher = new FakeFetch();
  fetcher.responses.push(
    streamOf(sse(delta("Hel"), delta("lo"), finish("stop"), usage(3), "[DONE]")),
  );
  const { chat, storage } = session(fetcher);
  await chat.send("Say hello", MODEL, {
    systemPrompt: "Be brief",
    temperature: 0.2,
    maxTokens: 64,
  });
  const conversation = chat.current()!;
  assert.equal(conversation.title, "Say hello");
  const [user, reply] = conversation.messages;
  assert.equal(user.content, "Say hello");
  assert.equal(reply.content, "Hello");
  assert.equal(reply.pending, undefined);
  assert.equal(reply.stats?.finishReason, "stop");
  assert.equal(reply.stats?.completionTokens, 3);
  assert.ok(reply.stats!.ttftMs! > 0 && reply.stats!.tokensPerSecond! > 0);
  assert.deepEqual(fetcher.bodies[0], {
    model: MODEL,
    messages: [{ role: "system", content: "Be brief" }, { role: "user", content: "Say hello" }],
    temperature: 0.2,
    max_tokens: 64,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(chat.reply(), null);
  assert.equal(new HistoryStore(storage).list()[0].messages[1].content, "Hello", "saved");
});

Deno.test("ChatSession shows the node's error before the stream, mid-stream, and for a cut stream", async () => {
  const fetcher = new FakeFetch();
  fetcher.responses.push(() =>
    Response.json({
      error: {
        message: 'Model "nope" not found',
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    }, { status: 404 })
  );
  fetcher.responses.push(
    streamOf(
      sse(delta("Par"), { error: { message: "Node mac2 left the cluster during the request" } }),
    ),
  );
  fetcher.responses.push(streamOf(sse(delta("cut"))));
  fetcher.responses.push(new TypeError("Failed to fetch"));
  fetcher.responses.push(() =>
    Response.json({
      error: {
        message: "Cannot fetch llama-3.2-1b: it is a known model, but huggingface.co did not " +
          "answer (name resolution failed)",
        type: "server_error",
        param: "model",
        code: "hub_unreachable",
      },
    }, { status: 503 })
  );
  const { chat } = session(fetcher);
  for (const text of ["one", "two", "three", "four", "five"]) {
    await chat.send(text, MODEL, DEFAULT_SETTINGS);
  }
  const replies = chat.current()!.messages.filter((m) => m.role === "assistant");
  assert.deepEqual(replies.map((r) => r.error?.title), [
    "Model not found",
    "The request failed on the cluster",
    "The reply was cut off",
    "Cannot reach the node",
    "The model could not be fetched",
  ]);
  assert.equal(replies[0].error?.message, 'Model "nope" not found');
  assert.equal(replies[0].error?.code, "model_not_found");
  assert.equal(replies[1].content, "Par", "the text before the failure stays");
  assert.match(replies[1].error!.message, /mac2 left the cluster/);
  // The page's banner says why the node cannot be reached; the reply does not repeat it.
  assert.equal(replies[3].error!.message, "The request got no answer from the node.");
  assert.match(replies[4].error!.message, /huggingface\.co did not answer/);
  assert.equal(replies[4].error?.code, "hub_unreachable", "kept for the reply's retry buttons");
  assert.ok(replies.every((r) => r.stats?.finishReason === "error"));
  // Failed replies are not sent back to the model as its own words.
  assert.deepEqual(
    (fetcher.bodies[4].messages as { role: string }[]).map((m) => m.role),
    ["user", "user", "user", "user", "user"],
  );
  assert.equal(fetcher.bodies[4].max_tokens, 1024, "a conversation without a limit gets 1024");
});

Deno.test("ChatSession.stop aborts the request and keeps the text so far", async () => {
  const fetcher = new FakeFetch();
  let signal: AbortSignal | undefined;
  fetcher.responses.push((s) => {
    signal = s;
    return hanging(sse(delta("Once upon")))(s);
  });
  const { chat } = session(fetcher);
  const sending = chat.send("Tell a long story", MODEL, DEFAULT_SETTINGS);
  while (chat.current()?.messages[1]?.content !== "Once upon") {
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(chat.reply()?.phase, "streaming");
  chat.stop();
  await sending;
  assert.equal(signal?.aborted, true, "the fetch was aborted, so the node cancels the request");
  const reply = chat.current()!.messages[1];
  assert.equal(reply.content, "Once upon");
  assert.equal(reply.error, undefined);
  assert.equal(reply.stats?.finishReason, "stopped");
});

Deno.test("ChatSession edits a user message, drops what followed, and regenerates", async () => {
  const fetcher = new FakeFetch();
  for (const text of ["A1", "A2", "A3", "A4"]) {
    fetcher.responses.push(streamOf(sse(delta(text), finish("stop"), "[DONE]")));
  }
  const { chat } = session(fetcher);
  await chat.send("Q1", MODEL, DEFAULT_SETTINGS);
  await chat.send("Q2", MODEL, DEFAULT_SETTINGS);
  const q1 = chat.current()!.messages[0];
  await chat.editAndRegenerate(q1.id, "Q1 edited");
  assert.deepEqual(chat.current()!.messages.map((m) => m.content), ["Q1 edited", "A3"]);
  assert.equal(chat.current()!.title, "Q1 edited");
  assert.deepEqual(fetcher.bodies[2].messages, [{ role: "user", content: "Q1 edited" }]);
  await chat.regenerate();
  assert.deepEqual(chat.current()!.messages.map((m) => m.content), ["Q1 edited", "A4"]);
});

Deno.test("ChatSession marks a reply cut off by a reload as interrupted", async () => {
  const fetcher = new FakeFetch();
  fetcher.responses.push(hanging(sse(delta("half"))));
  const storage = new MemoryStorage();
  const first = session(fetcher, storage);
  const sending = first.chat.send("hi", MODEL, DEFAULT_SETTINGS);
  while (first.chat.current()?.messages[1]?.content !== "half") {
    await new Promise((r) => setTimeout(r, 1));
  }
  // The reply was saved as pending when it started: a reload now finds it so.
  const saved = new HistoryStore(storage).list()[0];
  assert.equal(saved.messages[1].pending, true);
  const reloaded = session(new FakeFetch(), storage).chat;
  const reply = reloaded.current()!.messages[1];
  assert.equal(reply.pending, undefined);
  assert.equal(reply.error?.title, "Reply interrupted");
  first.chat.stop();
  await sending;
});

Deno.test("ChatSession waits for the model before sending, and the wait can be stopped", async () => {
  const fetcher = new FakeFetch();
  let release!: () => void;
  const { chat } = session(fetcher);
  const storage = new MemoryStorage();
  const waiting = new ChatSession({
    client: new ApiClient("http://x", () => null, fetcher.fetch),
    store: new HistoryStore(storage),
    now: () => performance.now(),
    wallClock: () => Date.now(),
    newId: () => crypto.randomUUID(),
    waitForModel: (_model, signal) =>
      new Promise((resolve, reject) => {
        release = resolve;
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
    onChange: () => {},
    onProblem: () => {},
  });
  fetcher.responses.push(streamOf(sse(delta("ready now"), finish("stop"), "[DONE]")));
  const sent = waiting.send("hello", MODEL, DEFAULT_SETTINGS);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(waiting.reply()?.phase, "waiting");
  assert.equal(fetcher.bodies.length, 0, "nothing is sent while the model downloads");
  release();
  await sent;
  assert.equal(waiting.current()!.messages[1].content, "ready now");

  const stopped = waiting.send("again", MODEL, DEFAULT_SETTINGS);
  await new Promise((r) => setTimeout(r, 5));
  waiting.stop();
  await stopped;
  assert.equal(waiting.current()!.messages[3].stats?.finishReason, "stopped");
  assert.equal(fetcher.bodies.length, 1);
  assert.equal(chat.conversations().length, 0);
});
