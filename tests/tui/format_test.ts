import assert from "node:assert/strict";
import { formatMemory, formatSize, headLines, wrapText } from "../../lib/tui/format.ts";
import { cellWidth } from "../../lib/tui/styled_text.ts";

Deno.test("formatMemory shows MB as GB, one decimal below 100 GB and none from there", () => {
  assert.equal(formatMemory(24105), "23.5 GB");
  assert.equal(formatMemory(196608), "192 GB");
  assert.equal(formatMemory(32768), "32.0 GB");
  assert.equal(formatMemory(1000), "1.0 GB");
  assert.equal(formatMemory(102350), "100 GB", "99.95 GB rounds up to 100: no decimal");
  assert.equal(formatMemory(220713), "216 GB");
});

Deno.test("formatSize shows bytes in the same GB, and whole MB below 1 GB", () => {
  assert.equal(formatSize(2_470_000_000), "2.3 GB");
  assert.equal(formatSize(2 ** 30), "1.0 GB");
  assert.equal(formatSize(340_200_000), "324 MB");
  assert.equal(formatSize(2 ** 30 - 1000), "1.0 GB", "1023.999 MB is 1 GB");
  assert.equal(formatSize(0), "0 B");
  assert.equal(formatSize(12_345), "12 KB");
  assert.equal(formatSize(150 * 2 ** 30), "150 GB");
});

Deno.test("headLines wraps the start of a text and ends a cut one with an ellipsis", () => {
  assert.deepEqual(headLines("one two three four five", 9, 2), ["one two", "three fo…"]);
  assert.deepEqual(headLines("one two three", 9, 2), ["one two", "three"]);
  assert.deepEqual(headLines("abcdefghij", 4, 2), ["abcd", "efg…"]);
  assert.deepEqual(headLines("", 4, 2), []);
  assert.deepEqual(headLines("failed: cannot reach the hub", 20, 2, 9), [
    "failed:",
    "cannot reach the hub",
  ]);
  for (const line of headLines("東京の天気は晴れです。".repeat(5), 7, 3)) {
    assert.ok(cellWidth(line) <= 7, line);
  }
});

Deno.test("wrapText keeps a first line shorter when something stands before it", () => {
  assert.deepEqual(wrapText("aa bb cc dd", 5, 2), ["aa", "bb cc", "dd"]);
  assert.deepEqual(wrapText("abcdef", 4, 2), ["ab", "cdef"]);
});
