import type { CompletionFinishReason } from "../orchestration/completion_service.ts";

/** How one kind of completion (chat or text) shapes its answers, in OpenAI's objects. */
export interface CompletionFormat {
  /** Prefix of response ids, e.g. "chatcmpl-". */
  idPrefix: string;
  /** `object` of the whole response, e.g. "chat.completion". */
  responseObject: string;
  /** `object` of each streamed chunk, e.g. "chat.completion.chunk". */
  chunkObject: string;
  /** The request field holding the prompt, named when it is too long. */
  inputParam: string;
  /** The choice of a whole response. */
  responseChoice(text: string, finishReason: CompletionFinishReason): unknown;
  /** Choices streamed before any text (chat's role announcement). */
  openingChoices(): unknown[];
  /** The choice of a chunk carrying text. */
  deltaChoice(text: string): unknown;
  /** The choice of the chunk that ends the text. */
  finishChoice(finishReason: CompletionFinishReason): unknown;
}

/** `POST /v1/chat/completions`: `chat.completion` and `chat.completion.chunk`. */
export const CHAT_FORMAT: CompletionFormat = {
  idPrefix: "chatcmpl-",
  responseObject: "chat.completion",
  chunkObject: "chat.completion.chunk",
  inputParam: "messages",
  responseChoice: (text, finishReason) => ({
    index: 0,
    message: { role: "assistant", content: text, refusal: null },
    logprobs: null,
    finish_reason: finishReason,
  }),
  openingChoices: () => [chatChunkChoice({ role: "assistant", content: "" }, null)],
  deltaChoice: (text) => chatChunkChoice({ content: text }, null),
  finishChoice: (finishReason) => chatChunkChoice({}, finishReason),
};

/** `POST /v1/completions`: `text_completion` for the response and its chunks. */
export const TEXT_FORMAT: CompletionFormat = {
  idPrefix: "cmpl-",
  responseObject: "text_completion",
  chunkObject: "text_completion",
  inputParam: "prompt",
  responseChoice: (text, finishReason) => textChoice(text, finishReason),
  openingChoices: () => [],
  deltaChoice: (text) => textChoice(text, null),
  finishChoice: (finishReason) => textChoice("", finishReason),
};

function chatChunkChoice(delta: object, finishReason: CompletionFinishReason | null): unknown {
  return { index: 0, delta, logprobs: null, finish_reason: finishReason };
}

function textChoice(text: string, finishReason: CompletionFinishReason | null): unknown {
  return { text, index: 0, logprobs: null, finish_reason: finishReason };
}
