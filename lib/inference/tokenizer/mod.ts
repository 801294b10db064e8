/**
 * Tokenizer, chat template and streaming text for a model, from its own Hugging Face files:
 * {@linkcode ModelTokenizer} encodes prompts and chats, {@linkcode StreamingDetokenizer}
 * turns generated ids into text deltas, {@linkcode StopStringMatcher} ends text at OpenAI
 * `stop` strings.
 *
 * @example Usage
 * ```ts
 * import { ModelTokenizer, StreamingDetokenizer } from "./mod.ts";
 *
 * const tokenizer = await ModelTokenizer.load(modelDir);
 * const prompt = tokenizer.encodeChat([{ role: "user", content: "Hello" }]);
 * const detokenizer = new StreamingDetokenizer(tokenizer);
 * ```
 * @module
 */
export * from "./chat_template.ts";
export * from "./chat_template_error.ts";
export * from "./model_tokenizer.ts";
export * from "./stop_string_matcher.ts";
export * from "./streaming_detokenizer.ts";
export * from "./tokenizer_files.ts";
