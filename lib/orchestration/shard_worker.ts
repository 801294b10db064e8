import type { Logger } from "../log/logger.ts";
import type {
  ExecutionProvider,
  InferenceEngine,
  LoadedShard,
  ShardDType,
} from "../inference/engine.ts";
import type { ShardInput, ShardOutput } from "../inference/shard_input.ts";
import { sample } from "../inference/sampler/sample.ts";
import { SeededRng } from "../inference/sampler/seeded_rng.ts";
import type { Message, PromptMessage, TensorMessage, TokenMessage } from "../protocol/messages.ts";
import type { ShardRange } from "../topology/partition.ts";
import { encodeRequestMeta, parseRequestMeta, type RequestMeta } from "./request_meta.ts";
import { RecentIds } from "./recent_ids.ts";
import { shardStatusJson } from "./shard_status.ts";
import { describePlacement } from "../inference/onnx/placement.ts";
import type { ComputeTurn } from "../inference/compute_turn.ts";

/** What a worker needs from its node. */
export interface ShardWorkerOptions {
  selfId: string;
  engine: InferenceEngine;
  /** The local directory of a model named in a request, with the layers given (inclusive). */
  resolveModelDir(model: string, startLayer: number, endLayer: number): Promise<string>;
  dtype: ShardDType;
  executionProvider: ExecutionProvider;
  /** Sends a message to a node (this node included); rejects when it cannot. */
  send(nodeId: string, message: Message): Promise<void>;
  logger: Logger;
  /** Most decode steps run together in one batch (default 8). */
  maxBatch?: number;
  /**
   * Turns on the machine's cores shared with other nodes on it (default: none). A batch is
   * formed once the turn is held, so steps that arrive while another node computes join it.
   */
  computeTurn?: Pick<ComputeTurn, "run">;
  /**
   * Runs a shard load, which blocks the event loop while ONNX Runtime creates its session,
   * after telling the peers this node may fall silent (default: just runs it).
   */
  quietWhile?: <T>(reason: string, work: () => Promise<T>) => Promise<T>;
  /** Told of every shard this node loads, with the model it belongs to. */
  onShardLoaded?: (shard: LoadedShard, model: string) => void;
}

/** A request this node holds a shard of, as diagnostics show it. */
export interface WorkerRequestInfo {
  requestId: string;
  origin: string;
  shardIndex: number;
  startLayer: number;
  endLayer: number;
  cachedTokens: number;
}

interface WorkerRequest {
  id: string;
  meta: RequestMeta;
  index: number;
  range: ShardRange;
  /** The step expected next: 0 is the prompt, k the k-th generated token. */
  nextStep: number;
  /** Tokens held in the engine's cache for this request. */
  length: number;
  /** Tokens sampled so far (last shard only). */
  generated: number;
  rng: SeededRng | null;
  /** The engine's shard this request last ran on: while it stays loaded, no load check. */
  shard: LoadedShard | null;
}

interface Job {
  request: WorkerRequest;
  step: number;
  input: ShardInput;
}

/** A step that ran, with its output still to send. */
interface Done {
  request: WorkerRequest;
  step: number;
  output: ShardOutput;
}

const DEFAULT_MAX_BATCH = 8;

/**
 * Runs this node's shard of every request that passes through it: loads the shard a
 * request needs, runs the steps that arrive (the decode steps that are ready together as
 * one batch, so weights are read once for all of them), forwards hidden states to the next
 * shard, and on the last shard samples and sends the token to the origin and back to the
 * first shard. A request's cache is freed at its cancel, when it finishes here, when it
 * fails, or when a node of its plan leaves.
 */
export class ShardWorker {
  #options: ShardWorkerOptions;
  #logger: Logger;
  #requests = new Map<string, WorkerRequest>();
  #ended = new RecentIds(4096);
  #queue: Job[] = [];
  #running = false;
  #pumping: Promise<void> = Promise.resolve();
  #loading: { key: string; promise: Promise<void> } | null = null;
  #closed = false;
  #lastStepAt = 0;
  #stepping = false;

  /** Creates a worker; it does nothing until messages arrive. */
  constructor(options: ShardWorkerOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** The requests holding state here. */
  requests(): WorkerRequestInfo[] {
    return [...this.#requests.values()].map((request) => ({
      requestId: request.id,
      origin: request.meta.origin,
      shardIndex: request.index,
      startLayer: request.range.startLayer,
      endLayer: request.range.endLayer,
      cachedTokens: this.#options.engine.cachedLength(request.id),
    }));
  }

  /** When a step last ran here, ms since the epoch: now while one runs; 0 before any. */
  get lastStepAt(): number {
    return this.#stepping ? Date.now() : this.#lastStepAt;
  }

  /** Whether this node runs the first shard of the request. */
  isFirstShardOf(requestId: string): boolean {
    return this.#requests.get(requestId)?.index === 0;
  }

  /**
   * A request starts: the origin sends its plan to every node of it. This node loads its
   * shard ahead; the first shard also gets the prompt's tokens and runs them.
   */
  onPrompt(message: PromptMessage): void {
    const request = this.#admit(message.requestId, message.meta);
    if (request === null) return;
    this.#prepare(request);
    if (request.index === 0 && message.tokens.length > 0) {
      this.#enqueue(request, 0, { tokenIds: message.tokens });
    }
  }

  /** Hidden states for this node's shard of a request. */
  onTensor(message: TensorMessage, from: string): void {
    const request = this.#requests.get(message.requestId) ??
      (message.meta === "" ? null : this.#admit(message.requestId, message.meta));
    if (request === null) {
      this.#ignore(message.requestId, `tensor of step ${message.step} from ${from}`);
      return;
    }
    const problem = this.#checkTensor(request, message);
    if (problem !== null) {
      this.#fail(request, `Cannot run step ${message.step} from ${from}: ${problem}`);
      return;
    }
    const { data, shape } = message.tensor;
    const hidden = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4); // [1, seq, hidden]
    this.#enqueue(request, message.step, { hidden, seq: shape[1] });
  }

  /** A sampled token, fed back to the first shard for the next step. */
  onToken(message: TokenMessage): void {
    const request = this.#requests.get(message.requestId);
    if (request === null || request === undefined || request.index !== 0) {
      this.#ignore(message.requestId, `token of step ${message.step}`);
      return;
    }
    if (message.finishReason !== "") return;
    if (message.tokens.length !== 1) {
      this.#fail(request, `Cannot run step ${message.step + 1}: expected one token`);
      return;
    }
    this.#enqueue(request, message.step + 1, { tokenIds: message.tokens });
  }

  /** Ends a request here and frees its cache. */
  onCancel(requestId: string, reason: string): void {
    const request = this.#requests.get(requestId);
    this.#ended.add(requestId);
    if (request === undefined) return;
    this.#logger.debug(`Request ${requestId} ended: ${reason}`);
    this.#drop(request);
  }

  /** A node left: every request whose plan includes it ends here. */
  onPeerDown(nodeId: string): void {
    for (const request of [...this.#requests.values()]) {
      if (request.meta.origin === nodeId || request.meta.shards.some((s) => s.nodeId === nodeId)) {
        this.#logger.info(`Request ${request.id} ended: node ${nodeId} left`);
        this.#ended.add(request.id);
        this.#drop(request);
      }
    }
  }

  /** Resolves once no step is queued or running. */
  async idle(): Promise<void> {
    while (this.#running) await this.#pumping;
  }

  /** Ends every request and waits for the step in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const request of [...this.#requests.values()]) this.#drop(request);
    await this.idle();
  }

  #admit(requestId: string, metaJson: string): WorkerRequest | null {
    if (this.#closed || this.#ended.has(requestId)) return null;
    const existing = this.#requests.get(requestId);
    if (existing) return existing;
    let meta: RequestMeta;
    try {
      meta = parseRequestMeta(metaJson);
    } catch (error) {
      this.#logger.warn(`Refusing request ${requestId}: ${(error as Error).message}`);
      this.#ended.add(requestId);
      return null;
    }
    const index = meta.shards.findIndex((shard) => shard.nodeId === this.#options.selfId);
    if (index < 0) {
      this.#logger.warn(`Refusing request ${requestId}: its plan has no shard on this node`);
      this.#ended.add(requestId);
      return null;
    }
    const request: WorkerRequest = {
      id: requestId,
      meta,
      index,
      range: meta.shards[index],
      nextStep: 0,
      length: 0,
      generated: 0,
      rng: null,
      shard: null,
    };
    this.#requests.set(requestId, request);
    return request;
  }

  /** Starts loading the request's shard now, so it is ready when its first step arrives. */
  #prepare(request: WorkerRequest): void {
    this.#load(request).catch((error) => this.#fail(request, (error as Error).message));
  }

  /** Loads the request's shard; concurrent calls for the same shard share one load. */
  #load(request: WorkerRequest): Promise<void> {
    const key = `${request.meta.model}\n${request.range.startLayer}\n${request.range.endLayer}`;
    if (this.#loading?.key === key) return this.#loading.promise;
    const promise = this.#loadNow(request).finally(() => {
      if (this.#loading?.promise === promise) this.#loading = null;
    });
    this.#loading = { key, promise };
    return promise;
  }

  async #loadNow(request: WorkerRequest): Promise<void> {
    const { engine } = this.#options;
    const { startLayer, endLayer } = request.range;
    const modelDir = await this.#options.resolveModelDir(request.meta.model, startLayer, endLayer);
    const spec = {
      modelDir,
      startLayer: request.range.startLayer,
      endLayer: request.range.endLayer,
      dtype: this.#options.dtype,
      executionProvider: this.#options.executionProvider,
    };
    const current = engine.shard;
    const loaded = current !== null && current.modelDir === modelDir &&
      current.startLayer === spec.startLayer && current.endLayer === spec.endLayer;
    if (loaded) return;
    const status = (state: string, extra: Record<string, unknown> = {}) =>
      this.#status(request, shardStatusJson(this.#options.selfId, request, state, extra));
    status("loading");
    const started = performance.now();
    try {
      const load = () => engine.loadShard(spec);
      const quietWhile = this.#options.quietWhile;
      const shard = await (quietWhile === undefined
        ? load()
        : quietWhile(`loading layers ${startLayer}..${endLayer} of ${request.meta.model}`, load));
      status("loaded", {
        ms: Math.round(performance.now() - started),
        cacheHit: shard.cacheHit,
        executionProvider: shard.activeProvider,
        placement: describePlacement(shard.placement),
      });
      this.#options.onShardLoaded?.(shard, request.meta.model);
    } catch (error) {
      status("failed", { error: (error as Error).message });
      throw error;
    }
  }

  #status(request: WorkerRequest, json: string): void {
    this.#options.send(request.meta.origin, { type: "status", json }).catch(() => {});
  }

  #checkTensor(request: WorkerRequest, message: TensorMessage): string | null {
    if (message.shardIndex !== request.index) {
      return `it is for shard ${message.shardIndex}, this node runs shard ${request.index}`;
    }
    const { dtype, shape } = message.tensor;
    if (dtype !== "float32" || shape.length !== 3 || shape[0] !== 1 || shape[1] < 1) {
      return `expected a float32 hidden state [1, seq, hidden], got ${dtype} [${shape.join(", ")}]`;
    }
    return null;
  }

  #enqueue(request: WorkerRequest, step: number, input: ShardInput): void {
    if (step !== request.nextStep) {
      this.#fail(request, `Cannot run step ${step}: expected step ${request.nextStep}`);
      return;
    }
    request.nextStep++;
    this.#queue.push({ request, step, input });
    if (!this.#running) {
      this.#running = true;
      this.#pumping = this.#pump();
    }
  }

  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        try {
          // A shard loads (maybe converting for minutes) before the turn, not while holding it.
          await this.#loadFor(this.#queue[0].request);
          const turn = this.#options.computeTurn;
          const done = turn === undefined
            ? await this.#run(this.#takeBatch())
            : await turn.run(() => this.#run(this.#takeBatch()));
          // Sent once the turn is passed on: the next node, woken by these bytes, would
          // otherwise find the turn still held and wait for it on a pool thread.
          for (const { request, step, output } of done) {
            if (this.#isLive(request)) this.#deliver(request, step, output);
          }
        } catch (error) {
          // A bug here must cost the requests at hand, never the node and every request on it.
          this.#logger.error(`Shard worker step failed: ${(error as Error).stack ?? error}`);
          const reason = `internal error: ${(error as Error).message}`;
          for (const job of this.#queue.splice(0)) this.#fail(job.request, reason);
        }
      }
    } finally {
      // Cleared in the same turn the loop ends, so a job queued after it starts a new pump.
      this.#running = false;
    }
  }

  /**
   * Makes sure the request's shard is loaded; false when the request ended or its shard
   * failed to load (the request then fails).
   */
  async #loadFor(request: WorkerRequest): Promise<boolean> {
    if (!this.#isLive(request)) return false;
    const { engine } = this.#options;
    // Resolving the model touches the disk: done once per request, not on every token.
    if (request.shard !== null && request.shard === engine.shard) return true;
    try {
      await this.#load(request);
    } catch (error) {
      this.#fail(request, (error as Error).message);
      return false;
    }
    request.shard = engine.shard;
    return this.#isLive(request);
  }

  /**
   * The next job, with every other ready decode step of the same shard when it is one; none
   * when the queue emptied meanwhile (a cancel while waiting for the turn drops its jobs).
   */
  #takeBatch(): Job[] {
    const first = this.#queue.shift();
    if (first === undefined) return [];
    if (!isDecode(first)) return [first];
    const jobs = [first];
    const maxBatch = this.#options.maxBatch ?? DEFAULT_MAX_BATCH;
    const ids = new Set([first.request.id]);
    this.#queue = this.#queue.filter((job) => {
      const fits = jobs.length < maxBatch && isDecode(job) && !ids.has(job.request.id) &&
        sameRange(job.request, first.request);
      if (fits) {
        jobs.push(job);
        ids.add(job.request.id);
      }
      return !fits;
    });
    return jobs;
  }

  /** Runs a batch; returns the outputs to deliver, for the requests still live. */
  async #run(jobs: Job[]): Promise<Done[]> {
    const { engine } = this.#options;
    const live: Job[] = [];
    for (const job of jobs) {
      if (!(await this.#loadFor(job.request))) continue;
      const cached = engine.cachedLength(job.request.id);
      if (cached !== job.request.length) {
        this.#fail(
          job.request,
          `Cannot run step ${job.step}: the shard's cache holds ${cached} of ${job.request.length} tokens (the shard was replaced by another request's)`,
        );
        continue;
      }
      if (this.#isLive(job.request)) live.push(job);
    }
    if (live.length === 0) return [];
    let outputs: ShardOutput[];
    this.#stepping = true;
    try {
      outputs = live.length === 1
        ? [await engine.step(live[0].request.id, live[0].input)]
        : await engine.stepBatch(
          live.map((job) => ({ requestId: job.request.id, input: job.input })),
        );
    } catch (error) {
      for (const job of live) {
        this.#fail(job.request, `Cannot run step ${job.step}: ${(error as Error).message}`);
      }
      return [];
    } finally {
      this.#stepping = false;
      this.#lastStepAt = Date.now();
    }
    const done: Done[] = [];
    live.forEach((job, i) => {
      const { request } = job;
      if (!this.#isLive(request)) {
        engine.release(request.id);
        return;
      }
      request.length += "tokenIds" in job.input ? job.input.tokenIds.length : job.input.seq;
      done.push({ request, step: job.step, output: outputs[i] });
    });
    return done;
  }

  #deliver(request: WorkerRequest, step: number, output: ShardOutput): void {
    const { meta } = request;
    if (output.kind === "hidden") {
      const next = meta.shards[request.index + 1];
      if (next === undefined) {
        this.#fail(request, "Cannot forward hidden states: this node runs the last shard");
        return;
      }
      const { hidden, seq } = output;
      const message: TensorMessage = {
        type: "tensor",
        requestId: request.id,
        step,
        shardIndex: request.index + 1,
        // The first step carries the plan too, in case it overtakes the origin's prompt.
        meta: step === 0 ? encodeRequestMeta(meta) : "",
        tensor: {
          dtype: "float32",
          shape: [1, seq, hidden.length / seq],
          data: new Uint8Array(hidden.buffer, hidden.byteOffset, hidden.byteLength),
        },
      };
      this.#sendOrFail(request, next.nodeId, message);
      return;
    }
    request.rng ??= new SeededRng(meta.seed);
    const token = sample(output.logits, meta.sampling, request.rng);
    request.generated++;
    let finishReason = "";
    if (meta.eosTokenIds.includes(token)) finishReason = "stop";
    else if (request.generated >= meta.maxTokens) finishReason = "length";
    else if (
      this.#options.engine.shard && request.length >= this.#options.engine.shard.maxContext
    ) {
      finishReason = "length";
    }
    const message: TokenMessage = {
      type: "token",
      requestId: request.id,
      step,
      tokens: [token],
      finishReason,
    };
    const first = meta.shards[0].nodeId;
    // The first shard hears first: the next lap starts before the origin streams the token.
    if (finishReason === "" && first !== meta.origin) this.#sendOrFail(request, first, message);
    this.#sendOrFail(request, meta.origin, message);
    if (finishReason !== "") {
      this.#ended.add(request.id);
      this.#drop(request);
    }
  }

  #sendOrFail(request: WorkerRequest, nodeId: string, message: Message): void {
    this.#options.send(nodeId, message).catch((error) => {
      this.#fail(request, `Cannot send ${message.type} to ${nodeId}: ${(error as Error).message}`);
    });
  }

  #isLive(request: WorkerRequest): boolean {
    return this.#requests.get(request.id) === request;
  }

  #fail(request: WorkerRequest, reason: string): void {
    if (!this.#isLive(request)) return;
    this.#logger.warn(`Request ${request.id} failed on this node: ${reason}`);
    this.#ended.add(request.id);
    this.#drop(request);
    const message: Message = { type: "error", requestId: request.id, message: reason };
    this.#options.send(request.meta.origin, message).catch((error) => {
      this.#logger.warn(
        `Cannot tell ${request.meta.origin} that request ${request.id} failed: ${
          (error as Error).message
        }`,
      );
    });
  }

  #drop(request: WorkerRequest): void {
    if (!this.#isLive(request)) return;
    this.#requests.delete(request.id);
    this.#queue = this.#queue.filter((job) => job.request !== request);
    this.#options.engine.release(request.id);
  }

  #ignore(requestId: string, what: string): void {
    const why = this.#ended.has(requestId) ? "it has ended" : "it is unknown here";
    this.#logger.debug(`Ignoring ${what} for request ${requestId}: ${why}`);
  }
}

function isDecode(job: Job): boolean {
  const seq = "tokenIds" in job.input ? job.input.tokenIds.length : job.input.seq;
  return seq === 1 && job.request.length > 0;
}

function sameRange(a: WorkerRequest, b: WorkerRequest): boolean {
  return a.meta.model === b.meta.model && a.range.startLayer === b.range.startLayer &&
    a.range.endLayer === b.range.endLayer;
}
