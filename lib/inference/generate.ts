import { ContextLengthError, type InferenceEngine } from "./engine.ts";
import type { ShardOutput } from "./shard_input.ts";
import { type SamplingParams, validateSamplingParams } from "./sampler/sampling_params.ts";
import { type Rng, SeededRng } from "./sampler/seeded_rng.ts";
import type { ChatMessage } from "./tokenizer/chat_template.ts";
import type { ModelTokenizer } from "./tokenizer/model_tokenizer.ts";
import { StopStringMatcher } from "./tokenizer/stop_string_matcher.ts";
import { StreamingDetokenizer } from "./tokenizer/streaming_detokenizer.ts";

/** What to complete: a chat (rendered through the model's chat template) or raw prompt text. */
export type GenerateInput =
  | { messages: readonly ChatMessage[] }
  | { prompt: string };

/** One completion on an engine that holds every layer of the model. */
export interface GenerateOptions {
  engine: InferenceEngine;
  tokenizer: ModelTokenizer;
  input: GenerateInput;
  /** Most tokens to generate (>= 1). */
  maxTokens: number;
  /** Default greedy: temperature 0, topP 1, topK 0. */
  sampling?: SamplingParams;
  /** Seeds sampling; the same seed gives the same text. Default: from entropy. */
  seed?: number;
  /** OpenAI `stop` strings; the matched one is left out of the text. */
  stop?: readonly string[];
  /** Key of the KV cache in the engine; default a random UUID. Released at the end. */
  requestId?: string;
  /** Stops generation early (the generator then throws the signal's reason). */
  signal?: AbortSignal;
}

/** Why generation ended, in OpenAI's words: "stop" (EOS or stop string) or "length". */
export type FinishReason = "stop" | "length";

/** The summary a finished generation returns. */
export interface GenerateResult {
  finishReason: FinishReason;
  /** Tokens of the prompt as encoded. */
  promptTokens: number;
  /** Tokens sampled, the EOS token included. */
  completionTokens: number;
  /** The sampled token ids, in order (the EOS token included). */
  completionIds: number[];
  /** The stop string that ended generation, if one did. */
  stop?: string;
  /** Milliseconds spent on the prompt (prefill and the first token). */
  prefillMs: number;
  /** Milliseconds spent on the tokens after the first. */
  decodeMs: number;
}

const GREEDY: SamplingParams = { temperature: 0, topP: 1, topK: 0 };

/**
 * Completes a chat or prompt: encodes it, prefills the engine, then samples and decodes one
 * token at a time with the KV cache until an EOS token, `maxTokens`, the end of the context
 * or a stop string. Yields text deltas (never half a UTF-8 character; special tokens left
 * out) and returns the finish reason and token counts. The request's cache is released when
 * the generator finishes, fails or is abandoned.
 *
 * @example Usage
 * ```ts
 * const completion = generate({ engine, tokenizer, input: { prompt: "Hi" }, maxTokens: 16 });
 * for (let next = await completion.next(); ; next = await completion.next()) {
 *   if (next.done) { console.log(next.value.finishReason); break; }
 *   write(next.value);
 * }
 * ```
 *
 * @throws {ContextLengthError} when the prompt does not fit the context.
 * @throws {RangeError} for bad `maxTokens` or sampling parameters.
 */
export async function* generate(options: GenerateOptions): AsyncGenerator<string, GenerateResult> {
  const { engine, tokenizer, maxTokens, signal } = options;
  const shard = engine.shard;
  if (shard === null || shard.startLayer !== 0 || shard.endLayer !== shard.config.numLayers - 1) {
    throw new TypeError("Cannot generate: the engine must hold every layer of the model");
  }
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(`Cannot generate: maxTokens must be an integer >= 1, got ${maxTokens}`);
  }
  const sampling = options.sampling ?? GREEDY;
  validateSamplingParams(sampling);
  const rng: Rng = options.seed === undefined
    ? SeededRng.fromEntropy()
    : new SeededRng(options.seed);
  const stops = new StopStringMatcher(options.stop ?? []);
  const promptIds = "messages" in options.input
    ? tokenizer.encodeChat(options.input.messages)
    : tokenizer.encode(options.input.prompt);
  if (promptIds.length === 0) throw new RangeError("Cannot generate: the prompt has no tokens");
  if (promptIds.length > shard.maxContext) {
    throw new ContextLengthError("prompt", promptIds.length, shard.maxContext);
  }

  const requestId = options.requestId ?? crypto.randomUUID();
  const detokenizer = new StreamingDetokenizer(tokenizer);
  const completionIds: number[] = [];
  let finishReason: FinishReason = "length";
  const started = performance.now();
  let firstTokenAt = started;
  try {
    signal?.throwIfAborted();
    let output = await engine.step(requestId, { tokenIds: promptIds });
    let length = promptIds.length;
    while (true) {
      const token = engine.sample(logitsOf(output), sampling, rng);
      completionIds.push(token);
      if (completionIds.length === 1) firstTokenAt = performance.now();
      if (tokenizer.eosTokenIds.has(token)) {
        finishReason = "stop";
        break;
      }
      const matched = stops.push(detokenizer.push(token));
      if (matched.text !== "") yield matched.text;
      if (matched.stop !== undefined) {
        finishReason = "stop";
        break;
      }
      // The context must hold the token fed next.
      if (completionIds.length >= maxTokens || length >= shard.maxContext) break;
      signal?.throwIfAborted();
      // A consumer slower than the engine's idle timeout loses the cache; going on would
      // restart the request at position 0 and produce garbage.
      if (engine.cachedLength(requestId) !== length) {
        throw new RangeError(
          `Cannot continue request ${requestId}: its KV cache holds ${
            engine.cachedLength(requestId)
          } of ${length} tokens (released while idle?)`,
        );
      }
      output = await engine.step(requestId, { tokenIds: [token] });
      length++;
    }
    if (stops.matched === undefined) {
      const tail = stops.push(detokenizer.flush());
      const text = tail.text + (tail.stop === undefined ? stops.flush() : "");
      if (tail.stop !== undefined) finishReason = "stop";
      if (text !== "") yield text;
    }
  } finally {
    engine.release(requestId);
  }
  const finished = performance.now();
  return {
    finishReason,
    promptTokens: promptIds.length,
    completionTokens: completionIds.length,
    completionIds,
    ...(stops.matched === undefined ? {} : { stop: stops.matched }),
    prefillMs: firstTokenAt - started,
    decodeMs: finished - firstTokenAt,
  };
}

function logitsOf(output: ShardOutput): Float32Array {
  if (output.kind !== "logits") {
    throw new TypeError("Cannot generate: the shard returned hidden states, not logits");
  }
  return output.logits;
}
