/**
 * What the provider probe does with one loaded slice of a shard: a short prompt and two
 * decode steps whose outputs are compared across providers, then timed decode steps and a
 * timed prompt slice, each after a warm-up of the same shape (a GPU compiles its kernels
 * for each new shape on first use).
 * @module
 */
import type { ShardInput, ShardOutput } from "./shard_input.ts";
import type { LoadedRunner } from "./shard_runner.ts";
import { seededValues } from "./onnx/gqa_prefill_check.ts";

/** How many tokens each part of a measurement runs. */
export interface ProbePlan {
  /** Prompt of the correctness check; below the 32 new tokens where lavapipe's attention errs. */
  checkPrompt: number;
  /** Decode steps of the correctness check; they are also the decode warm-up. */
  checkDecode: number;
  /** Decode steps timed; the median step counts (another process may take a core). */
  decodeSteps: number;
  /** Tokens of the timed prompt slice (the CPU runs 64 at once). */
  promptTokens: number;
}

/**
 * The plan for a shard serving `maxContext` tokens: 8 prompt tokens and 2 decode steps to
 * check, 16 decode steps and a 64-token prompt to time, each cut to fit the context.
 * @throws {RangeError} when the context holds fewer than 4 tokens.
 */
export function probePlan(maxContext: number): ProbePlan {
  if (!Number.isInteger(maxContext) || maxContext < 4) {
    throw new RangeError(`Cannot probe providers: a context of ${maxContext} is below 4 tokens`);
  }
  const checkPrompt = Math.min(8, maxContext - 3);
  const checkDecode = 2;
  return {
    checkPrompt,
    checkDecode,
    decodeSteps: Math.min(16, maxContext - checkPrompt - checkDecode),
    promptTokens: Math.min(64, maxContext),
  };
}

/** What one slice did. */
export interface SliceMeasurement {
  /** The check's outputs: the prompt's, then each decode step's (logits or hidden states). */
  outputs: Float32Array[];
  /** Median decode step, ms. */
  decodeMs: number;
  /** The prompt slice, ms. */
  prefillMs: number;
}

// Never a real request's ids (those are UUIDs), nor the load's warm-up's.
const CHECK = "\u0000probe-check";
const PROMPT_WARM_UP = "\u0000probe-prompt-warm-up";
const PROMPT = "\u0000probe-prompt";

/** Runs the plan on `runner`; every request it makes is released, also on failure. */
export async function measureSlice(
  runner: LoadedRunner,
  plan: ProbePlan,
): Promise<SliceMeasurement> {
  const input = inputMaker(runner);
  try {
    const outputs = [vectorOf(await runner.step(CHECK, input(0, plan.checkPrompt)))];
    let position = plan.checkPrompt;
    for (let i = 0; i < plan.checkDecode; i++) {
      outputs.push(vectorOf(await runner.step(CHECK, input(position++, 1))));
    }
    const steps: number[] = [];
    for (let i = 0; i < plan.decodeSteps; i++) {
      const started = performance.now();
      await runner.step(CHECK, input(position++, 1));
      steps.push(performance.now() - started);
    }
    runner.release(CHECK);
    await runner.step(PROMPT_WARM_UP, input(0, plan.promptTokens));
    runner.release(PROMPT_WARM_UP);
    const started = performance.now();
    await runner.step(PROMPT, input(0, plan.promptTokens));
    const prefillMs = performance.now() - started;
    return { outputs, decodeMs: median(steps), prefillMs };
  } finally {
    for (const id of [CHECK, PROMPT_WARM_UP, PROMPT]) runner.release(id);
  }
}

/**
 * The same input for every provider: token ids spread over the vocabulary for a slice that
 * embeds, else hidden states in [-1, 1) (each layer normalizes its input first, so their
 * scale matters little), both fixed by position.
 */
function inputMaker(runner: LoadedRunner): (from: number, seq: number) => ShardInput {
  const { config, signature } = runner;
  if (signature.isFirst) {
    return (from, seq) => ({
      tokenIds: Array.from({ length: seq }, (_, i) => ((from + i) * 37 + 5) % config.vocabSize),
    });
  }
  const hidden = config.hiddenSize;
  return (from, seq) => {
    const values = new Float32Array(seq * hidden); // [1, seq, hidden]
    for (let i = 0; i < seq; i++) values.set(seededValues(hidden, from + i + 1), i * hidden);
    return { hidden: values, seq };
  };
}

function vectorOf(output: ShardOutput): Float32Array {
  return output.kind === "logits" ? output.logits : output.hidden;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
