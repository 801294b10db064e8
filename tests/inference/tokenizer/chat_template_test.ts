import assert from "node:assert/strict";
import {
  type ChatMessage,
  ChatTemplateError,
  ModelTokenizer,
} from "../../../lib/inference/tokenizer/mod.ts";
import { TINY, tinyTokenizerFiles } from "./tiny_tokenizer.ts";

const USER_HI: ChatMessage[] = [{ role: "user", content: "hi" }];

function encodeAscii(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

Deno.test("applyChatTemplate passes add_generation_prompt and special tokens", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles());
  assert.equal(tokenizer.applyChatTemplate(USER_HI), "<s><user>hi<|eot|><assistant>");
  assert.equal(
    tokenizer.applyChatTemplate(USER_HI, { addGenerationPrompt: false }),
    "<s><user>hi<|eot|>",
  );
});

Deno.test("encodeChat keeps the BOS the template writes and adds none of its own", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles({ add_bos_token: true }));
  const ids = tokenizer.encodeChat(USER_HI, { addGenerationPrompt: false });
  assert.deepEqual(ids, [TINY.bos, ...encodeAscii("<user>hi"), TINY.eot]);
});

Deno.test("encodeChat prepends BOS when add_bos_token is set and the template omits it", () => {
  const template = "{% for m in messages %}{{ m.content }}{% endfor %}";
  const withBos = new ModelTokenizer(
    tinyTokenizerFiles({ add_bos_token: true, chat_template: template }),
  );
  assert.deepEqual(withBos.encodeChat(USER_HI), [TINY.bos, ...encodeAscii("hi")]);
  const without = new ModelTokenizer(tinyTokenizerFiles({ chat_template: template }));
  assert.deepEqual(without.encodeChat(USER_HI), encodeAscii("hi"));
});

Deno.test("applyChatTemplate picks the template named default from a list", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles({
    chat_template: [
      { name: "tool_use", template: "tools" },
      { name: "default", template: "{{ messages[0].content }}!" },
    ],
  }));
  assert.equal(tokenizer.applyChatTemplate(USER_HI), "hi!");
});

Deno.test("ModelTokenizer names the file of a template that does not parse", () => {
  assert.throws(
    () => new ModelTokenizer(tinyTokenizerFiles({ chat_template: "{% for %}" })),
    SyntaxError,
    "Cannot parse chat template from /models/tiny/tokenizer_config.json: ",
  );
  assert.throws(
    () => new ModelTokenizer(tinyTokenizerFiles({}, { chatTemplate: "{% if %}" })),
    SyntaxError,
    "/models/tiny/chat_template.jinja",
  );
});

Deno.test("applyChatTemplate reports a template's raise_exception as ChatTemplateError", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles({
    chat_template:
      "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}ok",
  }));
  assert.equal(tokenizer.applyChatTemplate(USER_HI), "ok");
  assert.throws(
    () => tokenizer.applyChatTemplate([{ role: "assistant", content: "hello" }]),
    (error: Error) =>
      error instanceof ChatTemplateError &&
      error.message ===
        "Cannot render chat template from /models/tiny/tokenizer_config.json: Conversation must start with a user message",
  );
});

Deno.test("applyChatTemplate fails clearly for a model without a chat template", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles({ chat_template: undefined }));
  assert.throws(
    () => tokenizer.encodeChat(USER_HI),
    ChatTemplateError,
    "/models/tiny has no chat template",
  );
  assert.deepEqual(tokenizer.encode("a"), [TINY.bos, 97]);
});

Deno.test("applyChatTemplate rejects messages without string content", () => {
  const tokenizer = new ModelTokenizer(tinyTokenizerFiles());
  const bad = [{ role: "user", content: 42 }] as unknown as ChatMessage[];
  assert.throws(() => tokenizer.applyChatTemplate(bad), TypeError, "message 0");
});

Deno.test("ModelTokenizer merges eos ids from generation_config, int or list", () => {
  const single = new ModelTokenizer(
    tinyTokenizerFiles({}, { generationConfig: { eos_token_id: 5 } }),
  );
  assert.deepEqual([...single.eosTokenIds].sort((a, b) => a - b), [5, TINY.eos]);
  const list = new ModelTokenizer(
    tinyTokenizerFiles({}, { generationConfig: { eos_token_id: [TINY.eot, TINY.eos] } }),
  );
  assert.deepEqual([...list.eosTokenIds].sort(), [TINY.eos, TINY.eot]);
  assert.throws(
    () => new ModelTokenizer(tinyTokenizerFiles({}, { generationConfig: { eos_token_id: "x" } })),
    SyntaxError,
    "eos_token_id in /models/tiny/generation_config.json",
  );
});
