import type { Context } from "hono";
import type { ApiLimits } from "./api_limits.ts";
import type { CompletionFormat } from "./completion_format.ts";
import type { CompletionRequest } from "./parse_completion_request.ts";
import type { JsonObject } from "./_fields.ts";
import { readJsonBody } from "./read_json_body.ts";
import { sseResponse } from "./sse_response.ts";
import { toApiError } from "./to_api_error.ts";
import type {
  CompletionService,
  CompletionStream,
  CompletionSummary,
} from "../orchestration/completion_service.ts";

/** What a completion route needs. */
export interface CompletionRouteDeps {
  completions: CompletionService;
  limits: ApiLimits;
}

/** The fields every response and chunk of one completion repeats. */
interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/**
 * Serves one completion request: reads and validates the body with `parse`, starts the
 * completion (errors before the first byte become JSON error responses) and answers with
 * the whole text or, for `stream: true`, server-sent chunks.
 */
export async function serveCompletion(
  c: Context,
  deps: CompletionRouteDeps,
  format: CompletionFormat,
  parse: (body: JsonObject, limits: ApiLimits) => CompletionRequest,
): Promise<Response> {
  const body = await readJsonBody(c.req.raw, deps.limits.maxBodyBytes);
  const request = parse(body, deps.limits);
  const cancel = new AbortController();
  const signal = AbortSignal.any([c.req.raw.signal, cancel.signal]);
  let stream: CompletionStream;
  try {
    stream = await deps.completions.complete(request.job, signal);
  } catch (error) {
    throw toApiError(error, format.inputParam);
  }
  const meta: ResponseMeta = {
    id: `${format.idPrefix}${crypto.randomUUID().replaceAll("-", "")}`,
    created: Math.floor(Date.now() / 1000),
    model: stream.model,
  };
  if (!request.stream) {
    const { text, summary } = await collect(stream, format);
    return c.json({
      id: meta.id,
      object: format.responseObject,
      created: meta.created,
      model: meta.model,
      choices: [format.responseChoice(text, summary.finishReason)],
      usage: usageOf(stream, summary),
    });
  }
  return sseResponse(c, chunks(format, meta, stream, request.includeUsage), () => {
    cancel.abort(new DOMException("The client went away", "AbortError"));
    stream.deltas.return(undefined as never).catch(() => {});
  });
}

async function collect(
  stream: CompletionStream,
  format: CompletionFormat,
): Promise<{ text: string; summary: CompletionSummary }> {
  let text = "";
  try {
    for (;;) {
      const next = await stream.deltas.next();
      if (next.done) return { text, summary: next.value };
      text += next.value;
    }
  } catch (error) {
    throw toApiError(error, format.inputParam);
  }
}

async function* chunks(
  format: CompletionFormat,
  meta: ResponseMeta,
  stream: CompletionStream,
  includeUsage: boolean,
): AsyncGenerator<unknown, void> {
  // OpenAI sends `usage: null` on every chunk but the last when usage is asked for.
  const usage = includeUsage ? { usage: null } : {};
  const chunk = (choices: unknown[]) => ({
    id: meta.id,
    object: format.chunkObject,
    created: meta.created,
    model: meta.model,
    choices,
    ...usage,
  });
  let finished = false;
  try {
    for (const choice of format.openingChoices()) yield chunk([choice]);
    let next = await stream.deltas.next();
    while (!next.done) {
      if (next.value !== "") yield chunk([format.deltaChoice(next.value)]);
      next = await stream.deltas.next();
    }
    finished = true;
    const summary = next.value;
    yield chunk([format.finishChoice(summary.finishReason)]);
    if (includeUsage) yield { ...chunk([]), usage: usageOf(stream, summary) };
  } finally {
    if (!finished) await stream.deltas.return(undefined as never);
  }
}

function usageOf(stream: CompletionStream, summary: CompletionSummary) {
  return {
    prompt_tokens: stream.promptTokens,
    completion_tokens: summary.completionTokens,
    total_tokens: stream.promptTokens + summary.completionTokens,
  };
}
