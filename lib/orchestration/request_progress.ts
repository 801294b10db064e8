import { parseStatusObject } from "../protocol/status_json.ts";
import type { CompletionInput } from "./completion_service.ts";

/**
 * A request as its origin reports it to the other nodes of its ring (the JSON of a
 * `status` message), so every node's terminal shows what the cluster is doing: a short
 * prompt summary, the end of the output so far and the figures.
 */
export interface RequestProgress {
  event: "request";
  requestId: string;
  origin: string;
  model: string;
  /** The last user message (or the prompt), at most {@linkcode PROMPT_CHARS} characters. */
  prompt: string;
  /** The end of the generated text, at most {@linkcode OUTPUT_CHARS} characters. */
  output: string;
  state: "running" | "finished" | "failed";
  tokens: number;
  tokensPerSecond: number | null;
  ttftMs: number | null;
  error?: string;
  /** The nodes of the request's plan. */
  nodes: string[];
  /** When the request started, ms since the epoch. */
  startedAt: number;
}

/** Longest prompt summary sent. */
export const PROMPT_CHARS = 160;
/** Longest output tail sent. */
export const OUTPUT_CHARS = 480;
const MAX_TEXT = 4096;
const MAX_NODES = 256;

/** A short summary of what was asked: the last user message, the prompt text, or a count. */
export function promptSummary(input: CompletionInput): string {
  let text: string;
  if ("messages" in input) {
    const user = input.messages.findLast((m) => m.role === "user") ?? input.messages.at(-1);
    text = user?.content ?? "";
  } else if ("prompt" in input) {
    text = input.prompt;
  } else {
    text = `${input.promptTokens.length} prompt tokens`;
  }
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= PROMPT_CHARS ? flat : flat.slice(0, PROMPT_CHARS - 1) + "…";
}

/**
 * Follows one request at its origin and reports it through `emit`: when it starts, on
 * every piece of text, and when it ends.
 */
export class ProgressTracker {
  #progress: RequestProgress;
  #emit: (progress: RequestProgress) => void;
  #started = performance.now();
  #firstAt: number | null = null;

  /** Starts following a request; reports it running. */
  constructor(
    base: Pick<RequestProgress, "requestId" | "origin" | "model" | "prompt" | "nodes">,
    emit: (progress: RequestProgress) => void,
  ) {
    this.#emit = emit;
    this.#progress = {
      event: "request",
      ...base,
      output: "",
      state: "running",
      tokens: 0,
      tokensPerSecond: null,
      ttftMs: null,
      startedAt: Date.now(),
    };
    this.#report();
  }

  /** A token arrived, with the text it completed (maybe empty). */
  token(text: string): void {
    const now = performance.now();
    const p = this.#progress;
    p.tokens++;
    if (this.#firstAt === null) {
      this.#firstAt = now;
      p.ttftMs = Math.round(now - this.#started);
    } else if (now > this.#firstAt) {
      p.tokensPerSecond = Math.round(((p.tokens - 1) / ((now - this.#firstAt) / 1000)) * 10) / 10;
    }
    if (text !== "") p.output = (p.output + text).slice(-OUTPUT_CHARS);
    this.#report();
  }

  /** Text that arrived without a token (the detokenizer's tail). */
  text(text: string): void {
    if (text === "") return;
    this.#progress.output = (this.#progress.output + text).slice(-OUTPUT_CHARS);
  }

  /** The request ended; reported once, later calls are ignored. */
  end(error?: string): void {
    if (this.#progress.state !== "running") return;
    this.#progress.state = error === undefined ? "finished" : "failed";
    if (error !== undefined) this.#progress.error = error.slice(0, MAX_TEXT);
    this.#report();
  }

  #report(): void {
    this.#emit({ ...this.#progress, nodes: [...this.#progress.nodes] });
  }
}

/**
 * Parses a peer's status JSON into request progress, field by field (a peer's bytes are
 * not trusted); null when it is another event or malformed.
 */
export function parseRequestProgress(json: string): RequestProgress | null {
  const v = parseStatusObject(json);
  if (v === null || v.event !== "request") return null;
  const text = (x: unknown, max = MAX_TEXT) => typeof x === "string" && x.length <= max;
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  const figure = (x: unknown) =>
    x === null || (typeof x === "number" && Number.isFinite(x) && x >= 0);
  if (
    !text(v.requestId, 128) || !text(v.origin, 128) || !text(v.model) ||
    !text(v.prompt, PROMPT_CHARS * 2) || !text(v.output, OUTPUT_CHARS * 2) ||
    !(v.state === "running" || v.state === "finished" || v.state === "failed") ||
    !count(v.tokens) || !figure(v.tokensPerSecond) || !figure(v.ttftMs) ||
    !(v.error === undefined || text(v.error)) ||
    !Array.isArray(v.nodes) || v.nodes.length > MAX_NODES ||
    !v.nodes.every((node) => text(node, 128)) ||
    typeof v.startedAt !== "number" || !Number.isFinite(v.startedAt)
  ) {
    return null;
  }
  return {
    event: "request",
    requestId: v.requestId as string,
    origin: v.origin as string,
    model: v.model as string,
    prompt: v.prompt as string,
    output: v.output as string,
    state: v.state,
    tokens: v.tokens as number,
    tokensPerSecond: v.tokensPerSecond as number | null,
    ttftMs: v.ttftMs as number | null,
    ...(v.error === undefined ? {} : { error: v.error as string }),
    nodes: [...v.nodes as string[]],
    startedAt: v.startedAt,
  };
}
