import type { InferenceEngine, LoadedShard, ShardRequest } from "../../lib/inference/engine.ts";
import { ContextLengthError } from "../../lib/inference/engine.ts";
import { sample } from "../../lib/inference/sampler/sample.ts";
import type { ShardInput, ShardOutput } from "../../lib/inference/shard_input.ts";
import type { ModelConfig } from "../../lib/model/model_config.ts";

export const HIDDEN = 4;
export const VOCAB = 32;

/**
 * An engine for orchestration tests: hidden states are the input echoed (token id in
 * every element on the first shard), logits make `nextToken(lastInput)` the argmax. Steps
 * can be held at a gate to let others queue up behind them.
 */
export class FakeEngine implements InferenceEngine {
  shard: LoadedShard | null = null;
  readonly calls: { kind: "step" | "batch"; requestIds: string[] }[] = [];
  readonly released: string[] = [];
  loads = 0;
  failNextStep: Error | null = null;
  #cached = new Map<string, number>();
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;
  #maxContext: number;
  #nextToken: (value: number) => number;

  constructor(options: { maxContext?: number; nextToken?: (value: number) => number } = {}) {
    this.#maxContext = options.maxContext ?? 64;
    this.#nextToken = options.nextToken ?? ((value) => (value + 1) % VOCAB);
  }

  /** Holds every step until `open` is called. */
  hold(): void {
    this.#gate = new Promise((resolve) => this.#open = resolve);
  }

  open(): void {
    this.#open?.();
    this.#gate = null;
  }

  loadShard(request: ShardRequest): Promise<LoadedShard> {
    this.loads++;
    this.shard = {
      ...request,
      config: { numLayers: 4, hiddenSize: HIDDEN, vocabSize: VOCAB } as ModelConfig,
      activeProvider: "cpu",
      fallbackReason: null,
      placement: { providers: [{ provider: "CPUExecutionProvider", nodes: 1, ops: {} }] },
      cacheHit: false,
      maxContext: this.#maxContext,
    };
    return Promise.resolve(this.shard);
  }

  async step(requestId: string, input: ShardInput): Promise<ShardOutput> {
    this.calls.push({ kind: "step", requestIds: [requestId] });
    await this.#gate;
    return this.#run(requestId, input);
  }

  async stepBatch(items: { requestId: string; input: ShardInput }[]): Promise<ShardOutput[]> {
    this.calls.push({ kind: "batch", requestIds: items.map((item) => item.requestId) });
    await this.#gate;
    return items.map(({ requestId, input }) => this.#run(requestId, input));
  }

  sample = sample;

  cachedLength(requestId: string): number {
    return this.#cached.get(requestId) ?? 0;
  }

  release(requestId: string): boolean {
    this.released.push(requestId);
    return this.#cached.delete(requestId);
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }

  #run(requestId: string, input: ShardInput): ShardOutput {
    const failure = this.failNextStep;
    if (failure !== null) {
      this.failNextStep = null;
      throw failure;
    }
    const shard = this.shard!;
    const seq = "tokenIds" in input ? input.tokenIds.length : input.seq;
    const length = this.cachedLength(requestId) + seq;
    if (length > this.#maxContext) {
      throw new ContextLengthError(`request ${requestId}`, length, this.#maxContext);
    }
    this.#cached.set(requestId, length);
    const last = "tokenIds" in input ? input.tokenIds[seq - 1] : input.hidden[(seq - 1) * HIDDEN];
    if (shard.endLayer === 3) {
      const logits = new Float32Array(VOCAB);
      logits[this.#nextToken(last)] = 10;
      return { kind: "logits", logits };
    }
    const hidden = new Float32Array(seq * HIDDEN).fill(last); // [1, seq, hidden]
    return { kind: "hidden", hidden, seq };
  }
}
