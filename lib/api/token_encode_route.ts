import type { Context } from "hono";
import type { ApiLimits } from "./api_limits.ts";
import { describe, fieldOf, invalidField } from "./_fields.ts";
import { parseChatMessages } from "./parse_chat_messages.ts";
import { parsePrompt } from "./parse_prompt.ts";
import { readJsonBody } from "./read_json_body.ts";
import { toApiError } from "./to_api_error.ts";
import type { CompletionInput, CompletionService } from "../orchestration/completion_service.ts";

/**
 * The handler of exo's `POST /v1/chat/token/encode`: renders and encodes `messages` (or a
 * `prompt`) with the model's tokenizer and answers
 * `{length, num_tokens, encoded_tokens, encoded_prompt}`. Other fields are ignored, so the
 * body of a chat request can be sent as is.
 */
export function tokenEncodeHandler(
  deps: { completions: CompletionService; limits: ApiLimits },
): (c: Context) => Promise<Response> {
  return async (c) => {
    const body = await readJsonBody(c.req.raw, deps.limits.maxBodyBytes);
    const model = fieldOf(body, "model");
    if (model !== undefined && (typeof model !== "string" || model.trim() === "")) {
      throw invalidField("model", `must be a non-empty string, got ${describe(model)}`);
    }
    const messages = fieldOf(body, "messages");
    const prompt = fieldOf(body, "prompt");
    if (messages === undefined && prompt === undefined) {
      throw invalidField("messages", "missing; send messages or a prompt");
    }
    const input: CompletionInput = messages !== undefined
      ? { messages: parseChatMessages(messages) }
      : parsePrompt(prompt);
    let encoded;
    try {
      encoded = await deps.completions.encode(model ?? deps.limits.defaultModel, input);
    } catch (error) {
      throw toApiError(error, messages !== undefined ? "messages" : "prompt");
    }
    return c.json({
      length: encoded.prompt.length,
      num_tokens: encoded.tokens.length,
      encoded_tokens: encoded.tokens,
      encoded_prompt: encoded.prompt,
    });
  };
}
