import assert from "node:assert/strict";
import { RequestBoard } from "../../lib/node/request_board.ts";
import { ActivityBoard } from "../../lib/node/activity_board.ts";
import {
  parseRequestProgress,
  ProgressTracker,
  promptSummary,
  type RequestProgress,
} from "../../lib/orchestration/request_progress.ts";

function progress(overrides: Partial<RequestProgress> = {}): RequestProgress {
  return {
    event: "request",
    requestId: "r1",
    origin: "node1",
    model: "m",
    prompt: "hi",
    output: "hello",
    state: "running",
    tokens: 2,
    tokensPerSecond: 10,
    ttftMs: 50,
    nodes: ["node1", "node2"],
    startedAt: 1000,
    ...overrides,
  };
}

Deno.test("parseRequestProgress accepts a well-formed event and refuses each bad field", () => {
  assert.deepEqual(parseRequestProgress(JSON.stringify(progress())), progress());
  const bad: Record<string, unknown>[] = [
    { requestId: 5 },
    { prompt: "x".repeat(10_000) },
    { output: null },
    { state: "exploded" },
    { tokens: -1 },
    { tokens: 1.5 },
    { tokensPerSecond: "fast" },
    { ttftMs: -5 },
    { nodes: "node1" },
    { nodes: [1] },
    { startedAt: "now" },
    { error: 42 },
  ];
  for (const fields of bad) {
    assert.equal(
      parseRequestProgress(JSON.stringify({ ...progress(), ...fields })),
      null,
      JSON.stringify(fields),
    );
  }
  assert.equal(parseRequestProgress(JSON.stringify({ event: "download" })), null);
  assert.equal(parseRequestProgress("not json"), null);
});

Deno.test("RequestBoard records a peer's event under the sender, newest first, a dozen at most", () => {
  const board = new RequestBoard();
  assert.equal(board.fromPeer(JSON.stringify({ event: "engine" }), "node2"), false);
  assert.equal(board.fromPeer(JSON.stringify({ event: "request", tokens: "x" }), "node2"), true);
  assert.deepEqual(board.recent(), [], "a malformed event is dropped");
  board.fromPeer(JSON.stringify(progress({ origin: "liar" })), "node2");
  assert.equal(board.recent()[0].origin, "node2");
  for (let i = 0; i < 20; i++) board.publish(progress({ requestId: `x${i}`, startedAt: 2000 + i }));
  const recent = board.recent();
  assert.equal(recent.length, 12);
  assert.equal(recent[0].requestId, "x19");
  board.nodeLeft("node1");
  assert.equal(board.recent()[0].state, "failed");
});

Deno.test("RequestBoard tells listeners of this node's own events only", () => {
  const board = new RequestBoard();
  const heard: string[] = [];
  const stop = board.subscribe((p) => heard.push(p.requestId));
  board.publish(progress({ requestId: "mine" }));
  board.fromPeer(JSON.stringify(progress({ requestId: "theirs" })), "node2");
  stop();
  board.publish(progress({ requestId: "after" }));
  assert.deepEqual(heard, ["mine"]);
});

Deno.test("ProgressTracker reports start, tokens with TTFT and rate, and one end", () => {
  const events: RequestProgress[] = [];
  const tracker = new ProgressTracker(
    { requestId: "r", origin: "a", model: "m", prompt: "p", nodes: ["a"] },
    (p) => events.push(p),
  );
  tracker.token("Hel");
  tracker.token("lo");
  tracker.text("!");
  tracker.end();
  tracker.end("late");
  assert.deepEqual(events.map((e) => e.state), ["running", "running", "running", "finished"]);
  const last = events.at(-1)!;
  assert.equal(last.output, "Hello!");
  assert.equal(last.tokens, 2);
  assert.ok(last.ttftMs !== null && last.ttftMs >= 0);
});

Deno.test("promptSummary takes the last user message, flattened and cut", () => {
  assert.equal(
    promptSummary({
      messages: [{ role: "user", content: "first" }, { role: "assistant", content: "x" }, {
        role: "user",
        content: "a\n\nb",
      }],
    }),
    "a b",
  );
  assert.equal(promptSummary({ prompt: "y".repeat(500) }).length, 160);
  assert.equal(promptSummary({ promptTokens: [1, 2, 3] }), "3 prompt tokens");
});

Deno.test("ActivityBoard tells peers when this node starts and stops computing", () => {
  let last = 0;
  const sent: string[] = [];
  const board = new ActivityBoard(() => last, (json) => sent.push(json));
  board.tick(10_000);
  assert.deepEqual(sent, [], "idle from the start: nothing to say");
  last = 10_000;
  board.tick(10_100);
  board.tick(10_200);
  assert.deepEqual(board.computing("me"), ["me"]);
  board.tick(11_000);
  assert.deepEqual(sent.map((s) => JSON.parse(s).computing), [true, false]);
  assert.equal(board.fromPeer(JSON.stringify({ event: "activity", computing: true }), "p"), true);
  assert.deepEqual(board.computing("me"), ["p"]);
  board.forget("p");
  assert.deepEqual(board.computing("me"), []);
  assert.equal(board.fromPeer(JSON.stringify({ event: "request" }), "p"), false);
});
