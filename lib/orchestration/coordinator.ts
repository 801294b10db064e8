import type { Logger } from "../log/logger.ts";
import { loadModelConfig } from "../model/hf_config.ts";
import type { ModelConfig } from "../model/model_config.ts";
import type { KnownModel, ModelResolver, ResolvedModel } from "../model/model_resolver.ts";
import { findModelCard, modelSize } from "../model/registry.ts";
import type { ShardDType } from "../inference/onnx/shard_signature.ts";
import { ContextLengthError } from "../inference/engine.ts";
import { validateSamplingParams } from "../inference/sampler/sampling_params.ts";
import { ModelTokenizer } from "../inference/tokenizer/model_tokenizer.ts";
import { StopStringMatcher } from "../inference/tokenizer/stop_string_matcher.ts";
import { StreamingDetokenizer } from "../inference/tokenizer/streaming_detokenizer.ts";
import type { ErrorMessage, Message, StatusMessage, TokenMessage } from "../protocol/messages.ts";
import type { ShardRange } from "../topology/partition.ts";
import type { ClusterView } from "../topology/topology.ts";
import type {
  CompletionFinishReason,
  CompletionInput,
  CompletionJob,
  CompletionService,
  CompletionStream,
  CompletionSummary,
  EncodedPrompt,
  ModelEntry,
} from "./completion_service.ts";
import { ClusterUnavailableError, ModelNotFoundError, RequestFailedError } from "./errors.ts";
import { EventQueue } from "./event_queue.ts";
import { planRequest } from "./plan_request.ts";
import { encodeRequestMeta, type RequestMeta } from "./request_meta.ts";
import { describeShardStatus } from "./shard_status.ts";
import { ProgressTracker, promptSummary, type RequestProgress } from "./request_progress.ts";

/** What the coordinator needs from its node. */
export interface CoordinatorOptions {
  selfId: string;
  resolver: ModelResolver;
  /** The node's current view of the cluster. */
  view(): ClusterView;
  /** Resolves once at least `count` peers are connected; rejects when `signal` aborts. */
  waitForPeers(count: number, signal: AbortSignal): Promise<void>;
  /** Sends a message to a node (this node included); rejects when it cannot. */
  send(nodeId: string, message: Message): Promise<void>;
  logger: Logger;
  /** `--default-model`: used when a request names none. */
  defaultModel?: string;
  /** `--max-generate-tokens`: caps every request. */
  maxGenerateTokens: number;
  /** `--chatgpt-api-response-timeout` in ms: a request running longer fails. */
  responseTimeoutMs: number;
  /** `--wait-for-peers`: requests wait until this many peers are connected. */
  waitForPeerCount: number;
  /** Longest context served (default min(max_position_embeddings, 8192), as the engine's). */
  maxContext?: number;
  /** Told when a request starts, on each token and when it ends (the terminal view). */
  onProgress?: (progress: RequestProgress) => void;
  /** The shards' dtype: sizes the memory `/v1/models` says a model needs. */
  dtype?: ShardDType;
}

type OriginEvent =
  | { kind: "token"; token: number; finishReason: string }
  | { kind: "error"; error: RequestFailedError };

interface OriginRequest {
  id: string;
  meta: RequestMeta;
  events: EventQueue<OriginEvent>;
  cleanup: () => void;
}

const DEFAULT_MAX_CONTEXT = 8192;

/**
 * The origin side of requests: turns a completion job into a planned request across the
 * cluster, streams its tokens back as text, and ends it on every node when it finishes,
 * fails, times out, loses a node or the client goes away.
 */
export class Coordinator implements CompletionService {
  #options: CoordinatorOptions;
  #logger: Logger;
  #active = new Map<string, OriginRequest>();
  #tokenizers = new Map<string, Promise<ModelTokenizer>>();
  #configs = new Map<string, Promise<ModelConfig>>();

  /** Creates a coordinator; it does nothing until asked for a completion. */
  constructor(options: CoordinatorOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Whether this node is the origin of a running request. */
  has(requestId: string): boolean {
    return this.#active.has(requestId);
  }

  /** Ids of the requests this node is streaming. */
  activeRequests(): string[] {
    return [...this.#active.keys()];
  }

  /** Starts a completion; see {@linkcode CompletionService.complete}. */
  async complete(job: CompletionJob, signal: AbortSignal): Promise<CompletionStream> {
    validateSamplingParams(job.sampling);
    const model = await this.#resolve(job.model);
    const [tokenizer, config] = await Promise.all([
      this.#tokenizer(model.dir),
      this.#config(model.dir),
    ]);
    const promptIds = encodeInput(tokenizer, config, job.input);
    if (promptIds.length === 0) throw new RangeError("Cannot complete: the prompt has no tokens");
    const maxContext = this.#options.maxContext ??
      Math.min(config.maxPositionEmbeddings, DEFAULT_MAX_CONTEXT);
    if (promptIds.length > maxContext) {
      throw new ContextLengthError("prompt", promptIds.length, maxContext);
    }
    const cap = this.#options.maxGenerateTokens;
    const maxTokens = Math.min(job.maxTokens ?? cap, cap);
    if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) {
      throw new RangeError(`Cannot complete: max tokens must be an integer >= 1, got ${maxTokens}`);
    }

    await this.#waitForPeers(signal);
    const shards = planRequest(this.#options.view(), config.numLayers);
    const meta: RequestMeta = {
      model: model.id,
      origin: this.#options.selfId,
      shards,
      sampling: job.sampling,
      seed: job.seed ?? Math.floor(Math.random() * 2 ** 32),
      maxTokens,
      eosTokenIds: [...tokenizer.eosTokenIds],
    };
    const request = this.#register(meta, signal);
    const progress = new ProgressTracker({
      requestId: request.id,
      origin: meta.origin,
      model: meta.model,
      prompt: promptSummary(job.input),
      nodes: [...new Set(shards.map((shard) => shard.nodeId))],
    }, (p) => this.#options.onProgress?.(p));
    this.#logger.info(
      `Request ${request.id}: ${model.id}, ${promptIds.length} prompt tokens, up to ${maxTokens} tokens, over ${
        describePlan(shards)
      }`,
    );
    try {
      await this.#sendPrompt(request, promptIds);
    } catch (error) {
      this.#end(request, "failed to start");
      progress.end((error as Error).message);
      throw error;
    }
    return {
      model: model.id,
      promptTokens: promptIds.length,
      deltas: guarded(
        this.#stream(request, tokenizer, job.stop, progress),
        () => {
          this.#end(request, "cancelled");
          progress.end("cancelled");
        },
      ),
    };
  }

  /**
   * Every registry model and hub cache repo, plus the default model when it is neither (a
   * local directory, a seeded or not yet downloaded repo), which is marked; registry models
   * with their size, their memory in the shards' dtype. Nothing is downloaded: a page
   * polls this.
   */
  async models(): Promise<ModelEntry[]> {
    const resolver = this.#options.resolver;
    const dtype = this.#options.dtype ?? null;
    const entries: ModelEntry[] = (await resolver.list()).map((model) =>
      toEntry(model, false, dtype)
    );
    const fallback = this.#options.defaultModel;
    if (fallback !== undefined) {
      try {
        const model = await resolver.describe(fallback);
        const listed = entries.findIndex((entry) => entry.id === model.id);
        if (listed === -1) entries.push(toEntry(model, true, dtype));
        else entries[listed].isDefault = true;
      } catch (error) {
        if (!(error instanceof ModelNotFoundError)) throw error;
      }
    }
    return entries;
  }

  /** Renders and encodes a prompt with the model's tokenizer. */
  async encode(modelName: string | undefined, input: CompletionInput): Promise<EncodedPrompt> {
    const model = await this.#resolve(modelName);
    const [tokenizer, config] = await Promise.all([
      this.#tokenizer(model.dir),
      this.#config(model.dir),
    ]);
    const tokens = encodeInput(tokenizer, config, input);
    const prompt = "messages" in input
      ? tokenizer.applyChatTemplate(input.messages)
      : "prompt" in input
      ? input.prompt
      : tokenizer.decode(tokens);
    return { model: model.id, prompt, tokens };
  }

  /** A token from the request's last shard. */
  onToken(message: TokenMessage): void {
    const request = this.#active.get(message.requestId);
    if (request === undefined) return;
    for (const token of message.tokens) {
      request.events.push({ kind: "token", token, finishReason: message.finishReason });
    }
  }

  /** A node reports that the request failed there. */
  onError(message: ErrorMessage, from: string): void {
    const request = this.#active.get(message.requestId);
    if (request === undefined) return;
    request.events.push({
      kind: "error",
      error: new RequestFailedError(`Node ${from} failed: ${message.message}`, from),
    });
  }

  /** A status event from a node (shard loading), logged. */
  onStatus(message: StatusMessage, from: string): void {
    const line = describeShardStatus(message.json);
    if (line === null) this.#logger.debug(`Status from ${from}: ${message.json.slice(0, 200)}`);
    else this.#logger.info(line);
  }

  /** A node left: every request running on it fails. */
  onPeerDown(nodeId: string): void {
    for (const request of this.#active.values()) {
      if (!request.meta.shards.some((shard) => shard.nodeId === nodeId)) continue;
      request.events.push({
        kind: "error",
        error: new RequestFailedError(
          `Node ${nodeId} left the cluster during the request`,
          nodeId,
        ),
      });
    }
  }

  /** Fails every running request (the node is stopping). */
  close(): void {
    for (const request of this.#active.values()) {
      request.events.push({
        kind: "error",
        error: new RequestFailedError("The node is shutting down"),
      });
    }
  }

  async #resolve(name: string | undefined): Promise<ResolvedModel> {
    const chosen = name ?? this.#options.defaultModel;
    if (chosen === undefined) {
      throw new ModelNotFoundError(
        "",
        [],
        "no model was named and the node has no --default-model",
      );
    }
    return await this.#options.resolver.resolve(chosen);
  }

  #tokenizer(dir: string): Promise<ModelTokenizer> {
    return cached(this.#tokenizers, dir, () => ModelTokenizer.load(dir));
  }

  #config(dir: string): Promise<ModelConfig> {
    return cached(this.#configs, dir, () => loadModelConfig(dir));
  }

  async #waitForPeers(signal: AbortSignal): Promise<void> {
    const count = this.#options.waitForPeerCount;
    if (count <= 0) return;
    const seconds = this.#options.responseTimeoutMs / 1000;
    const deadline = AbortSignal.any([
      signal,
      AbortSignal.timeout(this.#options.responseTimeoutMs),
    ]);
    try {
      await this.#options.waitForPeers(count, deadline);
    } catch (error) {
      signal.throwIfAborted();
      throw new ClusterUnavailableError(
        `Waited ${seconds} s for ${count} peers (--wait-for-peers): ${(error as Error).message}`,
      );
    }
  }

  #register(meta: RequestMeta, signal: AbortSignal): OriginRequest {
    const id = crypto.randomUUID();
    const events = new EventQueue<OriginEvent>();
    const fail = (message: string) =>
      events.push({ kind: "error", error: new RequestFailedError(message) });
    const onAbort = () => fail("The client cancelled the request");
    signal.addEventListener("abort", onAbort);
    const seconds = this.#options.responseTimeoutMs / 1000;
    const timer = setTimeout(
      () => fail(`The request timed out after ${seconds} s (--chatgpt-api-response-timeout)`),
      this.#options.responseTimeoutMs,
    );
    const request: OriginRequest = {
      id,
      meta,
      events,
      cleanup: () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      },
    };
    this.#active.set(id, request);
    if (signal.aborted) onAbort();
    return request;
  }

  async #sendPrompt(request: OriginRequest, promptIds: number[]): Promise<void> {
    const meta = encodeRequestMeta(request.meta);
    const nodes = [...new Set(request.meta.shards.map((shard) => shard.nodeId))];
    await Promise.all(nodes.map(async (nodeId) => {
      try {
        await this.#options.send(nodeId, {
          type: "prompt",
          requestId: request.id,
          meta,
          tokens: nodeId === request.meta.shards[0].nodeId ? promptIds : [],
        });
      } catch (error) {
        throw new ClusterUnavailableError(
          `Cannot start the request on node ${nodeId}: ${(error as Error).message}`,
        );
      }
    }));
  }

  async *#stream(
    request: OriginRequest,
    tokenizer: ModelTokenizer,
    stop: readonly string[],
    progress: ProgressTracker,
  ): AsyncGenerator<string, CompletionSummary> {
    const detokenizer = new StreamingDetokenizer(tokenizer);
    const stops = new StopStringMatcher(stop);
    let completionTokens = 0;
    let finishReason: CompletionFinishReason = "length";
    const started = performance.now();
    let firstTokenAt = started;
    try {
      while (true) {
        const event = await request.events.next();
        if (event.kind === "error") throw event.error;
        if (++completionTokens === 1) firstTokenAt = performance.now();
        if (tokenizer.eosTokenIds.has(event.token)) {
          progress.token("");
          finishReason = "stop";
          break;
        }
        const matched = stops.push(detokenizer.push(event.token));
        progress.token(matched.text);
        if (matched.text !== "") yield matched.text;
        if (matched.stop !== undefined) {
          finishReason = "stop";
          break;
        }
        if (event.finishReason !== "") {
          finishReason = event.finishReason === "stop" ? "stop" : "length";
          break;
        }
      }
      if (stops.matched === undefined) {
        const tail = stops.push(detokenizer.flush());
        const text = tail.text + (tail.stop === undefined ? stops.flush() : "");
        if (tail.stop !== undefined) finishReason = "stop";
        progress.text(text);
        if (text !== "") yield text;
      }
      this.#end(request, "finished");
      progress.end();
      const decodeSeconds = (performance.now() - firstTokenAt) / 1000;
      const rate = completionTokens > 1 && decodeSeconds > 0
        ? `${((completionTokens - 1) / decodeSeconds).toFixed(1)} tokens/s`
        : "-";
      this.#logger.info(
        `Request ${request.id} finished (${finishReason}): ${completionTokens} tokens, first after ${
          (firstTokenAt - started).toFixed(0)
        } ms, then ${rate}`,
      );
      return { finishReason, completionTokens };
    } catch (error) {
      progress.end((error as Error).message);
      throw error;
    } finally {
      this.#end(request, "cancelled");
      progress.end("cancelled");
    }
  }

  /** Ends the request everywhere: every node of its plan frees its state. Idempotent. */
  #end(request: OriginRequest, reason: string): void {
    if (this.#active.get(request.id) !== request) return;
    this.#active.delete(request.id);
    request.cleanup();
    const nodes = new Set(request.meta.shards.map((shard) => shard.nodeId));
    for (const nodeId of nodes) {
      this.#options.send(nodeId, { type: "cancel", requestId: request.id, reason })
        .catch((error) =>
          this.#logger.debug(
            `Cannot send cancel of ${request.id} to ${nodeId}: ${(error as Error).message}`,
          )
        );
    }
    this.#logger.debug(`Request ${request.id} ended: ${reason}`);
  }
}

function encodeInput(
  tokenizer: ModelTokenizer,
  config: ModelConfig,
  input: CompletionInput,
): number[] {
  if ("messages" in input) return tokenizer.encodeChat(input.messages);
  if ("prompt" in input) return tokenizer.encode(input.prompt);
  input.promptTokens.forEach((id, i) => {
    if (!Number.isSafeInteger(id) || id < 0 || id >= config.vocabSize) {
      throw new RangeError(
        `Cannot complete: prompt token ${i} is ${id}, outside the vocabulary 0..${
          config.vocabSize - 1
        }`,
      );
    }
  });
  return [...input.promptTokens];
}

function toEntry(model: KnownModel, isDefault: boolean, dtype: ShardDType | null): ModelEntry {
  const entry: ModelEntry = {
    id: model.id,
    name: model.displayName,
    availableLocally: model.availableLocally,
    localBytes: model.localBytes,
    isDefault,
  };
  const card = findModelCard(model.id);
  if (card !== undefined) entry.size = modelSize(card, dtype);
  return entry;
}

function describePlan(shards: ShardRange[]): string {
  return shards.map((s) => `${s.nodeId} [${s.startLayer}..${s.endLayer}]`).join(" -> ");
}

function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = map.get(key);
  if (value === undefined) {
    value = load();
    map.set(key, value);
    value.catch(() => map.delete(key));
  }
  return value;
}

/**
 * Wraps a generator so that `return()` and `throw()` run `end` even when the generator
 * never started (a never-started generator skips its own `finally`).
 */
function guarded<T, R>(inner: AsyncGenerator<T, R>, end: () => void): AsyncGenerator<T, R> {
  const wrapper: AsyncGenerator<T, R> = {
    next: (...args) => inner.next(...args),
    async return(value) {
      try {
        return await inner.return(value);
      } finally {
        end();
      }
    },
    async throw(error) {
      try {
        return await inner.throw(error);
      } finally {
        end();
      }
    },
    [Symbol.asyncIterator]() {
      return wrapper;
    },
    async [Symbol.asyncDispose]() {
      await wrapper.return(undefined as R);
    },
  };
  return wrapper;
}
