import type { Context } from "hono";
import { TEXT_FORMAT } from "./completion_format.ts";
import { parseTextCompletionRequest } from "./parse_completion_request.ts";
import { type CompletionRouteDeps, serveCompletion } from "./serve_completion.ts";

/** The handler of `POST /v1/completions` (OpenAI's legacy text completions). */
export function completionsHandler(
  deps: CompletionRouteDeps,
): (c: Context) => Promise<Response> {
  return (c) => serveCompletion(c, deps, TEXT_FORMAT, parseTextCompletionRequest);
}
