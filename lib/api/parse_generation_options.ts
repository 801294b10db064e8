import type { ApiLimits } from "./api_limits.ts";
import {
  describe,
  fieldOf,
  invalidField,
  isJsonObject,
  type JsonObject,
  optionalBoolean,
  optionalNumber,
  rejectUnknownFields,
} from "./_fields.ts";
import {
  type SamplingParams,
  validateSamplingParams,
} from "../inference/sampler/sampling_params.ts";

/** The request options chat and text completions share, validated. */
export interface GenerationOptions {
  model: string;
  /** Clamped to {@linkcode ApiLimits.maxGenerateTokens}; undefined takes the node's default. */
  maxTokens?: number;
  sampling: SamplingParams;
  seed?: number;
  stop: string[];
  stream: boolean;
  /** `stream_options.include_usage`: end the stream with a usage chunk. */
  includeUsage: boolean;
}

/** The fields {@linkcode parseGenerationOptions} reads, beside the ones given as `maxTokenFields`. */
export const GENERATION_FIELDS: readonly string[] = [
  "model",
  "stream",
  "stream_options",
  "temperature",
  "top_p",
  "stop",
  "seed",
  "n",
];

const MAX_STOP_STRINGS = 4;
const STREAM_OPTION_FIELDS = new Set(["include_usage", "include_obfuscation"]);

/**
 * Reads the shared options of a completion request, with OpenAI's defaults (temperature 1,
 * top_p 1).
 *
 * @param maxTokenFields The fields that may set the token budget, the preferred one first.
 * @throws {ApiError} 400 naming the field at fault.
 */
export function parseGenerationOptions(
  body: JsonObject,
  limits: ApiLimits,
  maxTokenFields: readonly string[],
): GenerationOptions {
  const model = parseModel(body, limits);
  const maxTokens = parseMaxTokens(body, maxTokenFields, limits.maxGenerateTokens);
  const sampling: SamplingParams = {
    temperature: optionalNumber(body, "temperature", { min: 0, max: 2 }) ?? 1,
    topP: optionalNumber(body, "top_p", { min: 0, max: 1, minExclusive: true }) ?? 1,
    topK: 0,
  };
  validateSamplingParams(sampling);
  const seed = fieldOf(body, "seed");
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw invalidField("seed", `must be an integer, got ${describe(seed)}`);
  }
  const n = fieldOf(body, "n");
  if (n !== undefined && n !== 1) {
    throw invalidField("n", `only one choice per request is supported, got ${describe(n)}`);
  }
  const stream = optionalBoolean(body, "stream") ?? false;
  return {
    model,
    maxTokens,
    sampling,
    seed: seed as number | undefined,
    stop: parseStop(fieldOf(body, "stop")),
    stream,
    includeUsage: parseStreamOptions(fieldOf(body, "stream_options"), stream),
  };
}

function parseModel(body: JsonObject, limits: ApiLimits): string {
  const model = fieldOf(body, "model");
  if (model === undefined) {
    if (limits.defaultModel !== undefined) return limits.defaultModel;
    throw invalidField("model", "missing; name a model, as this node has no default model");
  }
  if (typeof model !== "string" || model.trim() === "") {
    throw invalidField("model", `must be a non-empty string, got ${describe(model)}`);
  }
  return model;
}

function parseMaxTokens(
  body: JsonObject,
  fields: readonly string[],
  cap: number,
): number | undefined {
  for (const name of fields) {
    const value = fieldOf(body, name);
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw invalidField(name, `must be a positive integer, got ${describe(value)}`);
    }
    return Math.min(value, cap);
  }
  return undefined;
}

function parseStop(stop: unknown): string[] {
  if (stop === undefined) return [];
  if (typeof stop === "string") {
    if (stop === "") throw invalidField("stop", "must not be an empty string");
    return [stop];
  }
  if (!Array.isArray(stop)) {
    throw invalidField("stop", `must be a string or an array of strings, got ${describe(stop)}`);
  }
  if (stop.length > MAX_STOP_STRINGS) {
    throw invalidField("stop", `takes at most ${MAX_STOP_STRINGS} strings, got ${stop.length}`);
  }
  stop.forEach((item, index) => {
    if (typeof item !== "string" || item === "") {
      throw invalidField(`stop[${index}]`, `must be a non-empty string, got ${describe(item)}`);
    }
  });
  return stop;
}

function parseStreamOptions(options: unknown, stream: boolean): boolean {
  if (options === undefined) return false;
  if (!stream) {
    throw invalidField("stream_options", "only allowed when stream is true");
  }
  if (!isJsonObject(options)) {
    throw invalidField("stream_options", `must be an object, got ${describe(options)}`);
  }
  rejectUnknownFields(options, STREAM_OPTION_FIELDS, "stream_options.");
  optionalBoolean(options, "include_obfuscation", "stream_options.include_obfuscation");
  return optionalBoolean(options, "include_usage", "stream_options.include_usage") ?? false;
}
