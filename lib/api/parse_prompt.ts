import { describe, invalidField } from "./_fields.ts";
import type { CompletionInput } from "../orchestration/completion_service.ts";

/**
 * Reads the `prompt` of a text completion: a string, an array of token ids, or a one-element
 * array holding either (OpenAI's batch form, limited to one prompt).
 *
 * @throws {ApiError} 400 with param `prompt` (or `prompt[i]` for a bad token id).
 */
export function parsePrompt(prompt: unknown): CompletionInput {
  if (prompt === undefined) throw invalidField("prompt", "missing");
  if (typeof prompt === "string") return { prompt };
  const expected = "must be a string or an array of token ids";
  if (!Array.isArray(prompt)) throw invalidField("prompt", `${expected}, got ${describe(prompt)}`);
  if (prompt.length === 0) throw invalidField("prompt", "must not be an empty array");
  if (prompt.every((item) => typeof item === "number")) {
    return { promptTokens: parseTokens(prompt, "prompt") };
  }
  if (prompt.length > 1) {
    throw invalidField(
      "prompt",
      `only one prompt per request is supported, got ${prompt.length}`,
    );
  }
  const only = prompt[0];
  if (typeof only === "string") return { prompt: only };
  if (Array.isArray(only) && only.length > 0) {
    return { promptTokens: parseTokens(only, "prompt[0]") };
  }
  throw invalidField("prompt[0]", `${expected}, got ${describe(only)}`);
}

function parseTokens(tokens: unknown[], path: string): number[] {
  tokens.forEach((token, index) => {
    if (!Number.isSafeInteger(token) || (token as number) < 0) {
      throw invalidField(
        `${path}[${index}]`,
        `must be a token id (an integer >= 0), got ${describe(token)}`,
      );
    }
  });
  return tokens as number[];
}
