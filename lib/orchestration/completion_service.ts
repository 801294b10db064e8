import type { SamplingParams } from "../inference/sampler/sampling_params.ts";
import type { ModelSize } from "../model/registry.ts";
import type { ChatMessage } from "../inference/tokenizer/chat_template.ts";

/** What to complete: a chat, prompt text, or prompt token ids. */
export type CompletionInput =
  | { messages: ChatMessage[] }
  | { prompt: string }
  | { promptTokens: number[] };

/** One completion request, validated by the API. */
export interface CompletionJob {
  /** The model as the client named it (a registry id, Hugging Face repo id or local directory). */
  model: string;
  input: CompletionInput;
  /** Most tokens to generate; undefined takes the node's `--max-generate-tokens`. */
  maxTokens?: number;
  sampling: SamplingParams;
  /** Seeds sampling; the same seed gives the same text. */
  seed?: number;
  /** Stop strings; the matched one is left out of the text. */
  stop: string[];
}

/** Why a completion ended, in OpenAI's words. */
export type CompletionFinishReason = "stop" | "length";

/** The summary of a finished completion. */
export interface CompletionSummary {
  finishReason: CompletionFinishReason;
  /** Tokens sampled, the EOS token included. */
  completionTokens: number;
}

/** A started completion: the model it runs and its text as it is generated. */
export interface CompletionStream {
  /** The model id to report back to the client. */
  model: string;
  /** Tokens of the prompt as encoded. */
  promptTokens: number;
  /**
   * Text deltas (never half a UTF-8 character); returns the summary. Throws
   * {@linkcode RequestFailedError} when the request fails mid-way. Abandoning the
   * generator (`return()`) cancels the request on every node.
   */
  deltas: AsyncGenerator<string, CompletionSummary>;
}

/** One model as `/v1/models` lists it. */
export interface ModelEntry {
  id: string;
  /** Human-readable name. */
  name: string;
  /** Whether this node has the model's files locally. */
  availableLocally: boolean;
  /** Bytes removing the model frees on this node (its hub cache folder); null without one. */
  localBytes: number | null;
  /** Whether it is the node's `--default-model`. */
  isDefault: boolean;
  /** Its parameters, download and memory; absent for a model not in the registry. */
  size?: ModelSize;
}

/** A prompt as the model's tokenizer renders and encodes it. */
export interface EncodedPrompt {
  model: string;
  /** The rendered prompt text (the chat template applied for messages). */
  prompt: string;
  tokens: number[];
}

/**
 * What the HTTP API needs to serve completions. Implemented by the cluster orchestration;
 * tests of the API may implement it directly.
 */
export interface CompletionService {
  /**
   * Starts a completion; resolves once the prompt is encoded and the request is planned.
   * `signal` aborts it (the client went away).
   * @throws {ModelNotFoundError} for an unknown model.
   * @throws {ContextLengthError} (from the inference engine) when the prompt is too long.
   * @throws {ClusterUnavailableError} when no nodes can serve it.
   * @throws {RangeError} for bad parameters the API did not catch.
   */
  complete(job: CompletionJob, signal: AbortSignal): Promise<CompletionStream>;
  /** Models this node knows (the registry plus local models). */
  models(): Promise<ModelEntry[]>;
  /**
   * Renders and encodes a prompt.
   * @throws {ModelNotFoundError} for an unknown model.
   */
  encode(model: string | undefined, input: CompletionInput): Promise<EncodedPrompt>;
}
