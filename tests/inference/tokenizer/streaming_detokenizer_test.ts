import assert from "node:assert/strict";
import {
  ModelTokenizer,
  StopStringMatcher,
  StreamingDetokenizer,
} from "../../../lib/inference/tokenizer/mod.ts";
import { SeededRng } from "../../../lib/inference/sampler/mod.ts";
import { loadLlama3Tokenizer, ROUND_TRIP_TEXTS } from "./llama3_files.ts";
import { TINY, tinyTokenizerFiles } from "./tiny_tokenizer.ts";

/** Streams `ids` one by one; returns the deltas, the flush and how many pushes gave "". */
function stream(tokenizer: ModelTokenizer, ids: number[]) {
  const detokenizer = new StreamingDetokenizer(tokenizer);
  const deltas = ids.map((id) => detokenizer.push(id));
  const rest = detokenizer.flush();
  return { deltas, text: deltas.join("") + rest, heldBack: deltas.filter((d) => d === "").length };
}

function assertWholeCharacters(deltas: string[]): void {
  for (const delta of deltas) {
    assert.ok(!delta.includes("\uFFFD"), `delta ${JSON.stringify(delta)} has U+FFFD`);
    assert.ok(delta.isWellFormed(), `delta ${JSON.stringify(delta)} splits a surrogate pair`);
  }
}

Deno.test("StreamingDetokenizer streams Llama 3 emoji and CJK without partial characters", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  for (const text of ROUND_TRIP_TEXTS) {
    const ids = tokenizer.encode(text, { addSpecialTokens: false });
    const { deltas, text: streamed } = stream(tokenizer, ids);
    assertWholeCharacters(deltas);
    assert.equal(streamed, text);
  }
  // 🙂 alone is three byte-level tokens, so the first two must be held back.
  const emoji = tokenizer.encode("🙂", { addSpecialTokens: false });
  assert.ok(emoji.length > 1);
  assert.equal(stream(tokenizer, emoji).heldBack, emoji.length - 1);
});

Deno.test("StreamingDetokenizer skips special tokens and matches decode of a whole chat", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  const ids = tokenizer.encodeChat([
    { role: "user", content: "Translate 'good morning' to 日本語 🙂" },
    { role: "assistant", content: "おはようございます 🌅" },
  ]);
  const { deltas, text } = stream(tokenizer, ids);
  assertWholeCharacters(deltas);
  assert.equal(text, tokenizer.decode(ids, { skipSpecialTokens: true }));
  assert.ok(!text.includes("<|"));
});

Deno.test("StreamingDetokenizer applies Llama 3's space cleanup exactly as decode does", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  const ids = tokenizer.encode("Wait , is n't it ? Yes ! It 's 5 . ' ok", {
    addSpecialTokens: false,
  });
  const { text } = stream(tokenizer, ids);
  assert.equal(text, tokenizer.decode(ids));
  assert.equal(text, "Wait, isn't it? Yes! It's 5.'ok");
});

Deno.test("StreamingDetokenizer matches decode for random byte tokens, with and without cleanup", () => {
  const alphabet = ["a", "n", "'", "t", "s", " ", ".", ",", "é", "日", "🙂", "👍🏽", "\n"];
  const rng = new SeededRng(5);
  for (const cleanup of [false, true]) {
    const tokenizer = new ModelTokenizer(
      tinyTokenizerFiles({ clean_up_tokenization_spaces: cleanup }),
    );
    for (let round = 0; round < 150; round++) {
      let text = "";
      for (let i = 0; i < 12; i++) text += alphabet[Math.floor(rng.nextFloat() * alphabet.length)];
      const ids = tokenizer.encode(text);
      ids.splice(ids.length >> 1, 0, TINY.eot);
      const { deltas, text: streamed } = stream(tokenizer, ids);
      assertWholeCharacters(deltas);
      assert.equal(
        streamed,
        tokenizer.decode(ids, { skipSpecialTokens: true }),
        JSON.stringify(text),
      );
    }
  }
});

Deno.test("StreamingDetokenizer releases an incomplete character at flush as decode shows it", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles());
  const ids = [...new TextEncoder().encode("ok 日")].slice(0, -1);
  const detokenizer = new StreamingDetokenizer(tokenizer);
  const deltas = ids.map((id) => detokenizer.push(id));
  assert.equal(deltas.join(""), "ok ");
  assert.equal(detokenizer.flush(), "\uFFFD");
});

Deno.test("StreamingDetokenizer and StopStringMatcher end at a stop string spanning tokens", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  const ids = tokenizer.encode("The answer is 42 🙂\nUser: and then more", {
    addSpecialTokens: false,
  });
  for (
    const [stop, before] of [["\nUser:", "The answer is 42 🙂"], ["42 🙂\nU", "The answer is "]]
  ) {
    const detokenizer = new StreamingDetokenizer(tokenizer);
    const matcher = new StopStringMatcher([stop]);
    let emitted = "";
    let stoppedAt = -1;
    for (const [index, id] of ids.entries()) {
      const result = matcher.push(detokenizer.push(id));
      emitted += result.text;
      if (result.stop !== undefined) {
        stoppedAt = index;
        break;
      }
    }
    assert.equal(emitted, before);
    assert.ok(stoppedAt > 0 && stoppedAt < ids.length - 1, `stopped at token ${stoppedAt}`);
  }
});

Deno.test("StreamingDetokenizer rejects an unknown id and keeps streaming", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles());
  const detokenizer = new StreamingDetokenizer(tokenizer);
  assert.equal(detokenizer.push(104), "h");
  assert.throws(() => detokenizer.push(9999), RangeError);
  assert.equal(detokenizer.push(105), "i");
  assert.equal(detokenizer.flush(), "");
});
