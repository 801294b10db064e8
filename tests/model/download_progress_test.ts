import assert from "node:assert/strict";
import {
  type DownloadEvent,
  DownloadTracker,
  parseDownloadEvent,
} from "../../lib/model/download_progress.ts";

Deno.test("DownloadTracker reports bytes, speed and ETA, at most every 250 ms until a file ends", () => {
  let now = 1000;
  const events: DownloadEvent[] = [];
  const tracker = new DownloadTracker(
    { nodeId: "a", model: "m", repo: "org/m" },
    (e) => events.push(e),
    () => now,
  );
  tracker.add("x", 1000);
  tracker.add("y", 3000);
  tracker.update("x", 0);
  assert.equal(events.length, 1);
  now += 100;
  tracker.update("x", 500);
  assert.equal(events.length, 1, "throttled");
  now += 900;
  tracker.update("x", 1000);
  assert.equal(events.length, 2);
  const event = events[1];
  assert.equal(event.bytes, 1000);
  assert.equal(event.totalBytes, 4000);
  assert.equal(event.speed, 1000);
  assert.equal(event.eta, 3);
  assert.equal(event.done, false);
  assert.equal(event.status, "downloading");
  tracker.complete("x");
  assert.equal(events.length, 3, "a completed file is reported at once");
  assert.deepEqual(events[2].files.map((f) => f.done), [true, false]);
  tracker.finish(new Error("boom"));
  assert.equal(events[3].status, "failed");
  assert.equal(events[3].done, false, "a failed download is not done");
  assert.equal(events[3].eta, null, "a failed download has no ETA");
  assert.equal(events[3].speed, 0);
  assert.equal(events[3].error, "boom");
});

Deno.test("DownloadTracker does not count bytes resumed from disk as speed", () => {
  let now = 0;
  const events: DownloadEvent[] = [];
  const tracker = new DownloadTracker({ nodeId: "a", model: "m", repo: "org/m" }, (e) => {
    events.push(e);
  }, () => now);
  tracker.add("x", 2000);
  tracker.update("x", 1500);
  now = 1000;
  tracker.update("x", 1600);
  assert.equal(events[events.length - 1].speed, 100);
  assert.equal(events[events.length - 1].eta, 4);
});

Deno.test("parseDownloadEvent takes download events and ignores other status JSON", () => {
  const event = {
    event: "download",
    nodeId: "a",
    model: "m",
    repo: "org/m",
    file: "x",
    bytes: 1,
    totalBytes: 2,
    speed: 1,
    eta: 1,
    status: "downloading",
    done: false,
    files: [],
    at: 0,
  };
  assert.deepEqual(parseDownloadEvent(JSON.stringify(event)), event);
  for (
    const bad of [{ status: "done" }, { status: "failed" }, { status: "paused" }, { done: true }]
  ) {
    assert.equal(
      parseDownloadEvent(JSON.stringify({ ...event, ...bad })),
      null,
      JSON.stringify(bad),
    );
  }
  assert.equal(parseDownloadEvent('{"event":"shard","state":"loading"}'), null);
  assert.equal(parseDownloadEvent("not json"), null);
  assert.equal(parseDownloadEvent('{"event":"download","nodeId":1}'), null);
});
