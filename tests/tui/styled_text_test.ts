import assert from "node:assert/strict";
import { cellWidth, fitLine, lineText, lineToAnsi, spread } from "../../lib/tui/styled_text.ts";
import { Canvas } from "../../lib/tui/canvas.ts";
import { shortChip, tailLines } from "../../lib/tui/format.ts";

Deno.test("fitLine pads short text and cuts long text with an ellipsis", () => {
  assert.equal(lineText(fitLine([{ text: "abc" }], 6)), "abc   ");
  assert.equal(lineText(fitLine([{ text: "abcdefgh" }], 6)), "abcde…");
  assert.equal(lineText(fitLine([{ text: "ab" }, { text: "cdefgh" }], 4)), "abc…");
  assert.equal(lineText(fitLine([{ text: "abc" }], 0)), "");
});

Deno.test("fitLine never splits a wide character at the edge", () => {
  const line = lineText(fitLine([{ text: "日本語テキスト" }], 6));
  assert.equal(cellWidth(line), 6);
  assert.equal(line, "日本 …");
  assert.equal(cellWidth(lineText(fitLine([{ text: "👍👍👍👍" }], 5))), 5);
  assert.equal(cellWidth(lineText(fitLine([{ text: "👨‍👩‍👧 family" }], 9))), 9);
});

Deno.test("spread keeps the right part whole and cuts the left", () => {
  assert.equal(lineText(spread([{ text: "left side" }], [{ text: "R" }], 8)), "left s…R");
  assert.equal(lineText(spread([{ text: "a" }], [{ text: "R" }], 5)), "a   R");
});

Deno.test("lineToAnsi wraps styled spans in SGR codes and resets after each", () => {
  const ansi = lineToAnsi([{ text: "ok", style: { fg: "green", bold: true } }, { text: " x" }]);
  assert.equal(ansi, "\x1b[1;32mok\x1b[0m x");
});

Deno.test("Canvas overwrites half of a wide character without leaving the other half", () => {
  const canvas = new Canvas(6, 1);
  canvas.put(0, 0, "日本語");
  canvas.put(1, 0, "x");
  assert.equal(lineText(canvas.lines()[0]), " x本語");
  canvas.put(4, 0, "ab");
  assert.equal(lineText(canvas.lines()[0]), " x本ab");
  canvas.put(5, 0, "字"); // would stick out: not drawn
  canvas.put(-1, 0, "字"); // would start outside: not drawn
  assert.equal(lineText(canvas.lines()[0]), " x本ab");
  assert.equal(cellWidth(lineText(canvas.lines()[0])), 6);
});

Deno.test("tailLines wraps at spaces and keeps the newest lines", () => {
  assert.deepEqual(tailLines("one two three four five", 9, 2), ["three", "four five"]);
  assert.deepEqual(tailLines("abcdefghij", 4, 5), ["abcd", "efgh", "ij"]);
  assert.deepEqual(tailLines("a\n\nb\tc", 10, 1), ["a b c"]);
});

Deno.test("shortChip drops trademark marks and the clock", () => {
  assert.equal(shortChip("Intel(R) Xeon(R) CPU @ 2.20GHz"), "Intel Xeon");
  assert.equal(
    shortChip("AMD Ryzen 9 7950X 16-Core Processor"),
    "AMD Ryzen 9 7950X 16-Core Processor",
  );
  assert.equal(shortChip("Apple M2 Max"), "Apple M2 Max");
});
