import assert from "node:assert/strict";
import { StopStringMatcher } from "../../../lib/inference/tokenizer/mod.ts";
import { SeededRng } from "../../../lib/inference/sampler/mod.ts";

/** Feeds `pieces` and returns everything emitted plus the stop that matched. */
function run(stops: string[], pieces: string[]): { text: string; stop: string | undefined } {
  const matcher = new StopStringMatcher(stops);
  let text = "";
  let stop: string | undefined;
  for (const piece of pieces) {
    const result = matcher.push(piece);
    text += result.text;
    stop = result.stop;
  }
  return { text: text + matcher.flush(), stop };
}

function randomSplits(text: string, rng: SeededRng): string[] {
  const pieces: string[] = [];
  let at = 0;
  while (at < text.length) {
    const length = 1 + Math.floor(rng.nextFloat() * 5);
    pieces.push(text.slice(at, at + length));
    at += length;
  }
  return pieces;
}

Deno.test("StopStringMatcher ends text at a stop string split across deltas", () => {
  assert.deepEqual(run(["\nUser:"], ["Hello", "\nUs", "er: more"]), {
    text: "Hello",
    stop: "\nUser:",
  });
});

Deno.test("StopStringMatcher gives the same result for every way of splitting the text", () => {
  const text = "The answer is 42. ababab END of story\nUser: next";
  const rng = new SeededRng(3);
  for (let round = 0; round < 200; round++) {
    const pieces = round === 0 ? [...text] : randomSplits(text, rng);
    assert.deepEqual(run(["abc", "END", "\nUser:"], pieces), {
      text: "The answer is 42. ababab ",
      stop: "END",
    });
  }
});

Deno.test("StopStringMatcher holds back only what could start a stop string", () => {
  const matcher = new StopStringMatcher(["abc"]);
  assert.deepEqual(matcher.push("xxab"), { text: "xx", stop: undefined });
  assert.deepEqual(matcher.push("ab"), { text: "ab", stop: undefined });
  assert.deepEqual(matcher.push("d"), { text: "abd", stop: undefined });
  assert.equal(matcher.flush(), "");
});

Deno.test("StopStringMatcher releases held text at the end when nothing matched", () => {
  assert.deepEqual(run(["</answer>"], ["42 </ans"]), { text: "42 </ans", stop: undefined });
});

Deno.test("StopStringMatcher picks the earliest stop string and then drops everything", () => {
  const matcher = new StopStringMatcher(["world", "lo w"]);
  assert.deepEqual(matcher.push("hello world"), { text: "hel", stop: "lo w" });
  assert.deepEqual(matcher.push("more"), { text: "", stop: "lo w" });
  assert.equal(matcher.matched, "lo w");
  assert.equal(matcher.flush(), "");
});

Deno.test("StopStringMatcher without stop strings passes text straight through", () => {
  const matcher = new StopStringMatcher([]);
  assert.deepEqual(matcher.push("anything"), { text: "anything", stop: undefined });
});

Deno.test("StopStringMatcher rejects empty and non-string stop strings", () => {
  assert.throws(() => new StopStringMatcher(["ok", ""]), RangeError);
  assert.throws(() => new StopStringMatcher([7 as unknown as string]), TypeError);
});
