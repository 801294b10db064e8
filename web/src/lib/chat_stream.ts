/**
 * Reads an OpenAI chat completion stream (`stream: true`) into typed events, and the
 * figures of one reply. No DOM: the page and the tests both drive it.
 * @module
 */
import { SseParser } from "./sse_parser.ts";

/** Token counts of the stream's usage chunk (`stream_options.include_usage`). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** What one stream chunk means to the page. */
export type ChatEvent =
  | { type: "delta"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; usage: Usage }
  | { type: "error"; message: string };

/** How a stream ended: with `[DONE]`, or cut off before it. */
export interface StreamEnd {
  done: boolean;
}

/**
 * Yields the events of a chat completion stream's body; returns whether `[DONE]` came.
 * A chunk that is not JSON, or an error event, is yielded as an error.
 */
export async function* readChatStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ChatEvent, StreamEnd> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (const data of parser.push(text)) {
        if (data === "[DONE]") return { done: true };
        yield* eventsOf(data);
      }
      if (done) {
        parser.end();
        return { done: false };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** The events one `data:` payload holds. */
export function eventsOf(data: string): ChatEvent[] {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return [{
      type: "error",
      message: `The node sent a stream chunk that is not JSON: ${clip(data)}`,
    }];
  }
  if (!isObject(chunk)) {
    return [{
      type: "error",
      message: `The node sent a stream chunk that is not an object: ${clip(data)}`,
    }];
  }
  if (isObject(chunk.error)) {
    const message = typeof chunk.error.message === "string" ? chunk.error.message : clip(data);
    return [{ type: "error", message }];
  }
  const events: ChatEvent[] = [];
  for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
    if (!isObject(choice)) continue;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === "string" && delta.content !== "") {
      events.push({ type: "delta", text: delta.content });
    }
    if (typeof choice.finish_reason === "string") {
      events.push({ type: "finish", reason: choice.finish_reason });
    }
  }
  const usage = chunk.usage;
  if (
    isObject(usage) && typeof usage.prompt_tokens === "number" &&
    typeof usage.completion_tokens === "number"
  ) {
    events.push({
      type: "usage",
      usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
    });
  }
  return events;
}

/** The figures shown under a reply. */
export interface ReplyStats {
  /** ms from sending to the first text. */
  ttftMs: number | null;
  /** Generated tokens per second after the first one; null below two tokens. */
  tokensPerSecond: number | null;
  /** Tokens generated, from the usage chunk; null when the stream had none. */
  completionTokens: number | null;
  promptTokens: number | null;
  /** `stop`, `length`, or how the page ended it (`stopped`, `error`). */
  finishReason: string | null;
}

/** Times of one reply, from `performance.now()` or any clock in ms. */
export interface ReplyTimes {
  sentAt: number;
  firstTextAt: number | null;
  endedAt: number;
}

/**
 * The figures of a finished reply. Tokens per second counts the tokens after the first
 * over the time after the first text, so it measures decoding, not the prompt.
 */
export function replyStats(
  times: ReplyTimes,
  usage: Usage | null,
  finishReason: string | null,
): ReplyStats {
  const ttftMs = times.firstTextAt === null ? null : times.firstTextAt - times.sentAt;
  const tokens = usage?.completionTokens ?? null;
  const decodeMs = times.firstTextAt === null ? 0 : times.endedAt - times.firstTextAt;
  const tokensPerSecond = tokens !== null && tokens >= 2 && decodeMs > 0
    ? (tokens - 1) / (decodeMs / 1000)
    : null;
  return {
    ttftMs,
    tokensPerSecond,
    completionTokens: tokens,
    promptTokens: usage?.promptTokens ?? null,
    finishReason,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
