import assert from "node:assert/strict";
import {
  cleanUpTokenization,
  lastSafeCleanupCut,
} from "../../../lib/inference/tokenizer/_clean_up_tokenization.ts";
import { SeededRng } from "../../../lib/inference/sampler/mod.ts";

Deno.test("cleanUpTokenization removes spaces before punctuation and contractions", () => {
  assert.equal(
    cleanUpTokenization("Hi , it 's me . Do n't you 're sure ? I 'm ! We 've ' quoted"),
    "Hi, it's me. Don't you're sure? I'm! We've'quoted",
  );
});

Deno.test("lastSafeCleanupCut splits text so that cleaning the parts equals cleaning the whole", () => {
  // Characters chosen to form every pattern, and surrogate pairs that must not be split.
  const alphabet = [" ", ".", ",", "?", "!", "'", "n", "t", "m", "s", "v", "e", "r", "a", "🙂"];
  const rng = new SeededRng(21);
  for (let round = 0; round < 2000; round++) {
    let text = "";
    const length = 1 + Math.floor(rng.nextFloat() * 16);
    for (let i = 0; i < length; i++) {
      text += alphabet[Math.floor(rng.nextFloat() * alphabet.length)];
    }
    const cut = lastSafeCleanupCut(text);
    if (cut === 0) continue;
    const code = text.charCodeAt(cut);
    assert.ok(!(code >= 0xdc00 && code <= 0xdfff), `cut ${cut} splits a surrogate pair in ${text}`);
    for (const more of ["", " ", "'", " 's", "t", " n't", "'t", "'ve", " ' x", ".", "🙂"]) {
      assert.equal(
        cleanUpTokenization(text.slice(0, cut)) + cleanUpTokenization(text.slice(cut) + more),
        cleanUpTokenization(text + more),
        JSON.stringify({ text, cut, more }),
      );
    }
  }
});

Deno.test("lastSafeCleanupCut holds back only a tail that later text could rewrite", () => {
  assert.equal(lastSafeCleanupCut("ab"), 2);
  assert.equal(lastSafeCleanupCut("🙂"), 2);
  assert.equal(lastSafeCleanupCut("a "), 1);
  assert.equal(lastSafeCleanupCut("do n"), 2);
  assert.equal(lastSafeCleanupCut(" n"), 0);
  assert.equal(lastSafeCleanupCut("'"), 0);
});
