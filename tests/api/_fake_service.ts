import type {
  CompletionFinishReason,
  CompletionInput,
  CompletionJob,
  CompletionService,
  CompletionStream,
  CompletionSummary,
  EncodedPrompt,
  ModelEntry,
} from "../../lib/orchestration/completion_service.ts";
import { RequestFailedError } from "../../lib/orchestration/errors.ts";

/** What the fake does for the next request. */
export interface FakeScript {
  /** Text deltas, in order. */
  deltas: string[];
  finishReason: CompletionFinishReason;
  promptTokens: number;
  /** Thrown by `complete()` before any streaming. */
  failBeforeStart?: Error;
  /** Thrown by the deltas after `afterDeltas` deltas. */
  failMidStream?: { afterDeltas: number; error: Error };
  /** After this many deltas, wait until the request is cancelled. */
  hangAfter?: number;
}

/** How a deltas generator ended. */
export type FakeOutcome = "completed" | "failed" | "cancelled";

/**
 * A scripted {@linkcode CompletionService}: deterministic deltas, failures on demand; it
 * records the jobs it gets and how each stream ended.
 */
export class FakeCompletionService implements CompletionService {
  /** The script for every request; tests change it before sending. */
  script: FakeScript = { deltas: ["Hello", ", ", "world"], finishReason: "stop", promptTokens: 7 };
  /** Jobs received, in order. */
  readonly jobs: CompletionJob[] = [];
  /** Signals received with the jobs. */
  readonly signals: AbortSignal[] = [];
  /** Outcomes of the streams, in the order they ended. */
  readonly outcomes: FakeOutcome[] = [];
  readonly modelList: ModelEntry[] = [
    {
      id: "llama-3.2-1b",
      name: "Llama 3.2 1B",
      availableLocally: true,
      localBytes: 1234567,
      isDefault: true,
    },
    {
      id: "HuggingFaceTB/SmolLM2-135M-Instruct",
      name: "SmolLM2 135M",
      availableLocally: false,
      localBytes: null,
      isDefault: false,
    },
  ];
  #ended: ((outcome: FakeOutcome) => void)[] = [];
  #started: (() => void)[] = [];

  /** Resolves when the next request reaches `complete()`. */
  started(): Promise<void> {
    return new Promise((resolve) => this.#started.push(resolve));
  }

  /** Resolves with the outcome of the next stream to end. */
  nextOutcome(): Promise<FakeOutcome> {
    return new Promise((resolve) => this.#ended.push(resolve));
  }

  /** The job of the last request. */
  get lastJob(): CompletionJob {
    const job = this.jobs.at(-1);
    if (job === undefined) throw new Error("Cannot read the last job: no request yet");
    return job;
  }

  complete(job: CompletionJob, signal: AbortSignal): Promise<CompletionStream> {
    this.jobs.push(structuredClone(job));
    this.signals.push(signal);
    this.#started.shift()?.();
    const script = this.script;
    if (script.failBeforeStart) return Promise.reject(script.failBeforeStart);
    return Promise.resolve({
      model: job.model,
      promptTokens: script.promptTokens,
      deltas: this.#deltas(script, signal),
    });
  }

  async *#deltas(
    script: FakeScript,
    signal: AbortSignal,
  ): AsyncGenerator<string, CompletionSummary> {
    let outcome: FakeOutcome = "cancelled";
    try {
      for (const [index, delta] of script.deltas.entries()) {
        if (script.failMidStream?.afterDeltas === index) {
          outcome = "failed";
          throw script.failMidStream.error;
        }
        if (script.hangAfter === index) {
          await aborted(signal);
          throw new RequestFailedError("Cannot finish the request: cancelled");
        }
        yield delta;
      }
      outcome = "completed";
      return { finishReason: script.finishReason, completionTokens: script.deltas.length };
    } finally {
      this.outcomes.push(outcome);
      this.#ended.shift()?.(outcome);
    }
  }

  models(): Promise<ModelEntry[]> {
    return Promise.resolve(this.modelList);
  }

  encode(model: string | undefined, input: CompletionInput): Promise<EncodedPrompt> {
    const prompt = "messages" in input
      ? input.messages.map((m) => `<${m.role}>${m.content}`).join("") + "<assistant>"
      : "prompt" in input
      ? input.prompt
      : input.promptTokens.map((t) => String.fromCharCode(t)).join("");
    const tokens = [...prompt].map((ch) => ch.codePointAt(0)!);
    return Promise.resolve({ model: model ?? "default", prompt, tokens });
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
