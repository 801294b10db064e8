import type { ApiLimits } from "./api_limits.ts";
import {
  fieldOf,
  isJsonObject,
  type JsonObject,
  rejectUnknownFields,
  requireNeutral,
} from "./_fields.ts";
import {
  GENERATION_FIELDS,
  type GenerationOptions,
  parseGenerationOptions,
} from "./parse_generation_options.ts";
import { parseChatMessages } from "./parse_chat_messages.ts";
import { parsePrompt } from "./parse_prompt.ts";
import type { CompletionJob } from "../orchestration/completion_service.ts";

/** A validated completion request: the job for the service and how to answer. */
export interface CompletionRequest {
  job: CompletionJob;
  stream: boolean;
  /** Whether a streamed answer ends with a usage chunk. */
  includeUsage: boolean;
}

/** OpenAI fields accepted and ignored: they do not change the generated text. */
const IGNORED_CHAT_FIELDS = [
  "user",
  "metadata",
  "store",
  "service_tier",
  "prompt_cache_key",
  "safety_identifier",
  "parallel_tool_calls",
  "reasoning_effort",
  "verbosity",
];

type NeutralCheck = [name: string, isNeutral: (value: unknown) => boolean, neutral: string];

const isZero = (value: unknown) => value === 0;
const isFalse = (value: unknown) => value === false;
const isEmptyArray = (value: unknown) => Array.isArray(value) && value.length === 0;
const isEmptyObject = (value: unknown) => isJsonObject(value) && Object.keys(value).length === 0;
const never = () => false;

/** OpenAI fields this server does not implement, accepted at their no-op value only. */
const NEUTRAL_CHAT_FIELDS: NeutralCheck[] = [
  ["frequency_penalty", isZero, "0"],
  ["presence_penalty", isZero, "0"],
  ["logprobs", isFalse, "false"],
  ["top_logprobs", isZero, "0"],
  ["logit_bias", isEmptyObject, "{}"],
  ["tools", isEmptyArray, "[]"],
  ["functions", isEmptyArray, "[]"],
  ["tool_choice", (value) => value === "none", '"none"'],
  ["function_call", (value) => value === "none", '"none"'],
  ["response_format", (value) => isJsonObject(value) && value.type === "text", '{"type": "text"}'],
  [
    "modalities",
    (value) => Array.isArray(value) && value.length === 1 && value[0] === "text",
    '["text"]',
  ],
  ["audio", never, "null"],
  ["prediction", never, "null"],
  ["web_search_options", never, "null"],
];

const NEUTRAL_TEXT_FIELDS: NeutralCheck[] = [
  ["frequency_penalty", isZero, "0"],
  ["presence_penalty", isZero, "0"],
  ["logit_bias", isEmptyObject, "{}"],
  ["logprobs", isZero, "0"],
  ["best_of", (value) => value === 1, "1"],
  ["echo", isFalse, "false"],
  ["suffix", (value) => value === "", '""'],
];

const CHAT_TOKEN_FIELDS = ["max_completion_tokens", "max_tokens"];
const TEXT_TOKEN_FIELDS = ["max_tokens"];

const CHAT_FIELDS = new Set([
  ...GENERATION_FIELDS,
  ...CHAT_TOKEN_FIELDS,
  "messages",
  ...IGNORED_CHAT_FIELDS,
  ...NEUTRAL_CHAT_FIELDS.map(([name]) => name),
]);

const TEXT_FIELDS = new Set([
  ...GENERATION_FIELDS,
  ...TEXT_TOKEN_FIELDS,
  "prompt",
  "user",
  ...NEUTRAL_TEXT_FIELDS.map(([name]) => name),
]);

/**
 * Validates a `POST /v1/chat/completions` body.
 * @throws {ApiError} 400 naming the field at fault.
 */
export function parseChatCompletionRequest(body: JsonObject, limits: ApiLimits): CompletionRequest {
  rejectUnknownFields(body, CHAT_FIELDS);
  for (const [name, isNeutral, neutral] of NEUTRAL_CHAT_FIELDS) {
    requireNeutral(body, name, isNeutral, neutral);
  }
  const options = parseGenerationOptions(body, limits, CHAT_TOKEN_FIELDS);
  const messages = parseChatMessages(fieldOf(body, "messages"));
  return toRequest(options, { messages });
}

/**
 * Validates a `POST /v1/completions` body.
 * @throws {ApiError} 400 naming the field at fault.
 */
export function parseTextCompletionRequest(body: JsonObject, limits: ApiLimits): CompletionRequest {
  rejectUnknownFields(body, TEXT_FIELDS);
  for (const [name, isNeutral, neutral] of NEUTRAL_TEXT_FIELDS) {
    requireNeutral(body, name, isNeutral, neutral);
  }
  const options = parseGenerationOptions(body, limits, TEXT_TOKEN_FIELDS);
  return toRequest(options, parsePrompt(fieldOf(body, "prompt")));
}

function toRequest(
  options: GenerationOptions,
  input: CompletionJob["input"],
): CompletionRequest {
  const { model, maxTokens, sampling, seed, stop, stream, includeUsage } = options;
  const job: CompletionJob = { model, input, sampling, stop };
  if (maxTokens !== undefined) job.maxTokens = maxTokens;
  if (seed !== undefined) job.seed = seed;
  return { job, stream, includeUsage };
}
