import assert from "node:assert/strict";
import { TerminalScreen } from "../../lib/tui/terminal_screen.ts";
import { TuiApp } from "../../lib/tui/tui_app.ts";
import { LogPane } from "../../lib/tui/log_pane.ts";
import { fitLine } from "../../lib/tui/styled_text.ts";
import { viewModel } from "./_view_fixture.ts";

const size = { columns: 10, rows: 2 };
const frame = (a: string, b: string) => [fitLine([{ text: a }], 10), fitLine([{ text: b }], 10)];

Deno.test("TerminalScreen writes only the lines that changed, in one synchronized update", () => {
  const out: string[] = [];
  const screen = new TerminalScreen((text) => out.push(text));
  screen.open();
  assert.equal(out[0], "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[2J");
  assert.equal(screen.draw(frame("a", "b"), size), 2);
  assert.equal(screen.draw(frame("a", "b"), size), 0, "nothing changed: nothing written");
  assert.equal(out.length, 2);
  assert.equal(screen.draw(frame("a", "c"), size), 1);
  assert.equal(out[2], "\x1b[?2026h\x1b[2;1Hc         \x1b[?2026l");
  assert.equal(screen.draw(frame("a", "c"), size, true), 2, "a full repaint");
  assert.equal(screen.draw(frame("a", "c"), { columns: 10, rows: 3 }), 2, "resized: all lines");
  assert.ok(out.at(-1)!.includes("\x1b[2J"), "a resize clears first");
});

Deno.test("TerminalScreen.close restores the terminal once", () => {
  const out: string[] = [];
  const screen = new TerminalScreen((text) => out.push(text));
  screen.open();
  screen.close();
  screen.close();
  assert.equal(out.at(-1), "\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l");
  assert.equal(out.length, 2);
  assert.equal(screen.draw(frame("a", "b"), size), 0, "a closed screen draws nothing");
});

Deno.test("TuiApp draws a frame, redraws only on change, quits on q and restores the screen", async () => {
  const out: string[] = [];
  let model = viewModel(2);
  let frames = 0;
  const keys = new TransformStream<Uint8Array, Uint8Array>();
  const quit = Promise.withResolvers<void>();
  const drawn = Promise.withResolvers<void>();
  const app = new TuiApp({
    model: () => {
      frames++;
      if (frames === 3) drawn.resolve();
      return model;
    },
    write: (text) => out.push(text),
    size: () => ({ columns: 80, rows: 24 }),
    input: keys.readable,
    onQuit: () => quit.resolve(),
    frameMs: 5,
    repaintMs: 60_000,
  });
  app.start();
  await drawn.promise;
  const written = out.length;
  assert.ok(written >= 2, "opened and drew the first frame");
  assert.equal(out.length, written, "the same model again: nothing more written");
  model = viewModel(3);
  const writer = keys.writable.getWriter();
  await writer.write(new TextEncoder().encode("x"));
  await writer.write(new TextEncoder().encode("q"));
  await quit.promise;
  await app.stop();
  assert.ok(out.some((text) => text.includes("node3")), "the changed model was drawn");
  assert.equal(out.at(-1), "\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l");
  await writer.close().catch(() => {});
});

Deno.test("LogPane keeps the last warnings and errors with their time", () => {
  const pane = new LogPane(() => new Date(2026, 0, 1, 9, 5, 7));
  pane.add("info", "started");
  pane.add("warn", "[transport] slow");
  for (let i = 0; i < 60; i++) pane.add("error", `e${i}`);
  const lines = pane.lines();
  assert.equal(lines.length, 50);
  assert.deepEqual(lines.at(-1), { time: "09:05:07", level: "error", text: "e59" });
  assert.ok(!lines.some((line) => line.text === "started"));
});

Deno.test("LogPane keeps info lines apart as activity, so they never push out a warning", () => {
  const pane = new LogPane(() => new Date(2026, 0, 1, 9, 5, 7));
  pane.add("warn", "[transport] slow");
  pane.add("debug", "noise");
  for (let i = 0; i < 60; i++) pane.add("info", `i${i}`);
  assert.deepEqual(pane.lines().map((line) => line.text), ["[transport] slow"]);
  const activity = pane.activity();
  assert.equal(activity.length, 50);
  assert.deepEqual(activity.at(-1), { time: "09:05:07", level: "info", text: "i59" });
  assert.ok(!activity.some((line) => line.text === "noise"));
});
