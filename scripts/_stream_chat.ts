/**
 * One streamed chat completion through the official `openai` client, timed from the
 * client's side: time to first token (request sent to the first non-empty delta) and decode
 * speed ((completion tokens - 1) / (finish chunk - first delta), so prefill is left out).
 * Shared by `deno task demo` and `deno task bench:cluster`.
 * @module
 */
import type OpenAI from "openai";

/** What to ask. */
export interface StreamChatRequest {
  model: string;
  prompt: string;
  maxTokens: number;
  temperature?: number;
  seed?: number;
}

/** What one streamed completion took. */
export interface StreamChatResult {
  text: string;
  /** `usage.completion_tokens`: tokens actually generated (EOS may end a request early). */
  completionTokens: number;
  promptTokens: number;
  finishReason: string | null;
  /** Request sent to the first non-empty delta. */
  timeToFirstTokenMs: number;
  /** Request sent to the finish chunk. */
  totalMs: number;
  /** (completionTokens - 1) / (finish - first delta); NaN with fewer than 2 tokens. */
  decodeTokensPerSecond: number;
  /** Absolute `performance.now()` times, to line up concurrent requests. */
  startedAt: number;
  finishedAt: number;
}

/** Streams one chat completion; `onText` sees every delta as it arrives. */
export async function streamChat(
  client: OpenAI,
  request: StreamChatRequest,
  onText?: (text: string) => void,
): Promise<StreamChatResult> {
  const startedAt = performance.now();
  const stream = await client.chat.completions.create({
    model: request.model,
    messages: [{ role: "user", content: request.prompt }],
    max_tokens: request.maxTokens,
    temperature: request.temperature ?? 0,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let firstAt: number | null = null;
  let finishedAt: number | null = null;
  let finishReason: string | null = null;
  let usage: { completion_tokens: number; prompt_tokens: number } | null = null;
  for await (const chunk of stream) {
    const now = performance.now();
    const choice = chunk.choices[0];
    const delta = choice?.delta?.content ?? "";
    if (delta !== "") {
      firstAt ??= now;
      text += delta;
      onText?.(delta);
    }
    if (choice?.finish_reason) {
      finishReason = choice.finish_reason;
      finishedAt = now;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  const end = finishedAt ?? performance.now();
  if (usage === null) throw new Error("Cannot time the completion: the stream carried no usage");
  const first = firstAt ?? end;
  const completionTokens = usage.completion_tokens;
  const decodeMs = end - first;
  return {
    text,
    completionTokens,
    promptTokens: usage.prompt_tokens,
    finishReason,
    timeToFirstTokenMs: first - startedAt,
    totalMs: end - startedAt,
    decodeTokensPerSecond: completionTokens >= 2 && decodeMs > 0
      ? (completionTokens - 1) / (decodeMs / 1000)
      : NaN,
    startedAt,
    finishedAt: end,
  };
}
