import type { Context } from "hono";
import { CHAT_FORMAT } from "./completion_format.ts";
import { parseChatCompletionRequest } from "./parse_completion_request.ts";
import { type CompletionRouteDeps, serveCompletion } from "./serve_completion.ts";

/** The handler of `POST /v1/chat/completions` (OpenAI's chat completions). */
export function chatCompletionsHandler(
  deps: CompletionRouteDeps,
): (c: Context) => Promise<Response> {
  return (c) => serveCompletion(c, deps, CHAT_FORMAT, parseChatCompletionRequest);
}
