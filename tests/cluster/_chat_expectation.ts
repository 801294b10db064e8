/**
 * The chat every serving test asks, and what the float64 reference says its greedy answer
 * is, checked through the official OpenAI client.
 * @module
 */
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { referenceGreedy, visibleText, writeTestModel } from "./_model.ts";
import { ModelTokenizer } from "../../lib/inference/tokenizer/model_tokenizer.ts";
import type { WrittenCheckpoint } from "../fixtures/make_checkpoint.ts";

/** The conversation the tests send. */
export const MESSAGES = [{ role: "user" as const, content: "Tell me about the cluster" }];
/** Tokens each test completion may take. */
export const MAX_TOKENS = 16;

/** A model written for the test and its reference completion. */
export interface Expected {
  model: WrittenCheckpoint;
  promptIds: number[];
  text: string;
  completionTokens: number;
  finishReason: "stop" | "length";
}

/** The test model and what the float64 reference says its greedy chat completion is. */
export async function expectation(dir: string): Promise<Expected> {
  const model = await writeTestModel(dir);
  const tokenizer = await ModelTokenizer.load(model.dir);
  const promptIds = tokenizer.encodeChat(MESSAGES);
  const { ids, finishReason } = await referenceGreedy(model, promptIds, MAX_TOKENS);
  return {
    model,
    promptIds,
    text: await visibleText(model, ids),
    completionTokens: ids.length,
    finishReason,
  };
}

/** Asks for the chat without streaming and checks text, finish reason and usage. */
export async function assertChat(client: OpenAI, expected: Expected): Promise<void> {
  const completion = await client.chat.completions.create({
    model: expected.model.dir,
    messages: MESSAGES,
    max_tokens: MAX_TOKENS,
    temperature: 0,
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.equal(completion.choices[0].message.content, expected.text);
  assert.equal(completion.choices[0].finish_reason, expected.finishReason);
  assert.deepEqual(
    completion.usage && {
      prompt_tokens: completion.usage.prompt_tokens,
      completion_tokens: completion.usage.completion_tokens,
      total_tokens: completion.usage.total_tokens,
    },
    {
      prompt_tokens: expected.promptIds.length,
      completion_tokens: expected.completionTokens,
      total_tokens: expected.promptIds.length + expected.completionTokens,
    },
  );
}
