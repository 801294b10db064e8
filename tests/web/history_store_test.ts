import assert from "node:assert/strict";
import {
  type Conversation,
  HistoryFullError,
  HistoryStore,
  newConversation,
  titleFrom,
} from "../../web/src/lib/history_store.ts";
import { MemoryStorage } from "./_memory_storage.ts";

function conversation(id: string, updatedAt: number): Conversation {
  const c = newConversation(id, updatedAt, "llama-3.2-1b");
  c.messages.push({ id: `${id}-1`, role: "user", content: `hello from ${id}` });
  return c;
}

Deno.test("HistoryStore lists newest first and keeps everything across a reload", () => {
  const storage = new MemoryStorage();
  const store = new HistoryStore(storage);
  store.save(conversation("a", 100));
  store.save(conversation("b", 300));
  store.save(conversation("c", 200));
  store.setCurrentId("c");
  const reloaded = new HistoryStore(storage);
  assert.deepEqual(reloaded.list().map((c) => c.id), ["b", "c", "a"]);
  assert.equal(reloaded.currentId(), "c");
  assert.equal(reloaded.get("a")?.messages[0].content, "hello from a");
});

Deno.test("HistoryStore deletes one, clears all, and forgets a deleted current conversation", () => {
  const storage = new MemoryStorage();
  const store = new HistoryStore(storage);
  for (const id of ["a", "b", "c"]) store.save(conversation(id, id.charCodeAt(0)));
  store.setCurrentId("b");
  store.delete("b");
  assert.deepEqual(store.list().map((c) => c.id), ["c", "a"]);
  assert.equal(store.currentId(), null);
  store.clear();
  assert.deepEqual(new HistoryStore(storage).list(), []);
});

Deno.test("HistoryStore survives corrupt storage and keeps the readable entries", () => {
  const storage = new MemoryStorage();
  storage.setItem("exo-node.conversations.v1", "{not json");
  assert.deepEqual(new HistoryStore(storage).list(), []);
  storage.setItem(
    "exo-node.conversations.v1",
    JSON.stringify([
      null,
      { id: 5 },
      {
        id: "ok",
        messages: [{ id: "m", role: "user", content: "hi" }, { role: "robot" }],
        settings: { temperature: "hot" },
        stats: 1,
      },
      {
        id: "stats",
        messages: [{
          id: "r",
          role: "assistant",
          content: "x",
          stats: { ttftMs: "soon", finishReason: "stop" },
        }],
      },
    ]),
  );
  const list = new HistoryStore(storage).list();
  assert.deepEqual(list.map((c) => c.id).sort(), ["ok", "stats"]);
  const ok = list.find((c) => c.id === "ok")!;
  assert.equal(ok.messages.length, 1);
  assert.equal(ok.settings.temperature, null);
  assert.equal(ok.title, "New chat");
  const stats = list.find((c) => c.id === "stats")!.messages[0].stats!;
  assert.equal(stats.ttftMs, null);
  assert.equal(stats.finishReason, "stop");
});

Deno.test("HistoryStore raises HistoryFullError and keeps its last saved state when storage is full", () => {
  const storage = new MemoryStorage(400);
  const store = new HistoryStore(storage);
  store.save(conversation("a", 1));
  const big = conversation("b", 2);
  big.messages[0].content = "x".repeat(1000);
  assert.throws(() => store.save(big), HistoryFullError);
  assert.deepEqual(store.list().map((c) => c.id), ["a"]);
});

Deno.test("titleFrom makes one short line, cut at a word", () => {
  assert.equal(titleFrom("  Why is\nthe sky   blue?  "), "Why is the sky blue?");
  assert.equal(titleFrom(""), "New chat");
  const long = titleFrom("word ".repeat(40));
  assert.ok(long.length <= 61 && long.endsWith("…") && !long.includes("  "), long);
});
