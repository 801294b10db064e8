// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * bench:engine's report: the result type written to --json, and the tables it prints.
 * @module
 */
import { median, type Shape, table } from "./_bench_util.ts";
import type { RunResult } from "./_engine_worker.ts";
import type { ModelMatch } from "./_llama_cpp_check.ts";
import { FIXED_LLAMA_CPP_LABEL, LLAMA_CPP_PRECISION, llamaCpp } from "./_llama_cpp.ts";
import type { LlamaCppRound, LlamaCppRunner } from "./_llama_cpp_runner.ts";
import type { LlamaCppDevice } from "./_node_llama_cpp.ts";
import type { ExecutionProvider } from "../lib/inference/onnx/ort_session.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { describeProfile, type ProfileSummary } from "../lib/inference/onnx/profile_summary.ts";

const MB = 1e6;

/** llama.cpp's figures beside one configuration, and where they come from. */
export interface LlamaCppSource {
  /** "this run": measured now, interleaved with ours; "fixed": scripts/_llama_cpp.ts. */
  source: "this run" | "fixed";
  /** How llama.cpp ran (this run); absent in older reports, which ran node-llama-cpp. */
  runner?: LlamaCppRunner;
  prefillTokensPerSecond: number | null;
  /** From an empty context (llama-bench's tg). */
  decodeTokensPerSecond: number | null;
  /** After the prompt (tg at a depth of the prompt); null for the fixed figures. */
  afterPromptDecodeTokensPerSecond?: number | null;
  /**
   * Ours / llama.cpp: the median of the paired per-round ratios (this run) or the ratio to
   * the fixed figure; null when there is none or the devices differ (CPU against a GPU).
   */
  prefillRatio: number | null;
  decodeRatio: number | null;
  afterPromptDecodeRatio?: number | null;
  /**
   * llama.cpp's decode after the prompt over its decode from an empty context (median of the
   * rounds, this run), beside our own such ratio.
   */
  afterPromptRatio?: number | null;
  /** Each round's figures, ours (prefill, decode from empty) beside llama.cpp's (this run). */
  rounds?: { ours: LlamaCppRound; llamaCpp: LlamaCppRound }[];
}

/** One configuration's figures, as written to --json. */
export interface BenchResult {
  shape: Shape;
  dtype: ShardDType;
  executionProvider: ExecutionProvider;
  activeProvider: ExecutionProvider;
  placement: string;
  /** Nodes of the shard's graph; absent in older reports. */
  nodes?: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  emptyContextDecodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
  coldLoadMs: number;
  warmLoadMs: number;
  weightBytes: number;
  peakRssBytes: number;
  conversionPeakRssBytes: number;
  rssLimitBytes: number;
  rssPass: boolean;
  /** Absent in reports from before llama.cpp ran in the same run. */
  llamaCpp?: LlamaCppSource;
  /** Resident memory once loaded (the highest of the rounds); absent in older reports. */
  loadRssBytes?: number;
  /** Steps of the long generation after the prompt. */
  longSteps?: number;
  /** Their 99th percentile (median of the rounds) and slowest (of all rounds), ms. */
  p99StepMs?: number;
  slowestStepMs?: number;
  /** Which step was the slowest. */
  slowestStep?: number;
  /** Decode after the prompt over decode from an empty context (median of the rounds). */
  afterPromptRatio?: number;
  /** The projection kernels alone, ms per token (median); null when not timed. */
  projectionsMs?: number | null;
  /** A decode step from an empty context over its projections (median of paired rounds). */
  stepOverProjections?: number | null;
  /**
   * ORT's fewest-node form of the shard (the fused GroupQueryAttention graph in float32,
   * CPU) decoding from an empty context: its step (median), its nodes, its step over the
   * projections and our step over it (medians of paired rounds); null when not timed.
   */
  floor?: { stepMs: number; nodes: number; overProjections: number; stepOverFloor: number } | null;
  /**
   * Where a profiled decode step's time went, after the prompt and from an empty context
   * (--profile); null or absent when not asked.
   */
  profile?: { afterPrompt: ProfileSummary; empty: ProfileSummary } | null;
}

/** The engine issue's targets. */
const TARGETS = { stepOverProjections: 1.15, afterPrompt: 0.9 } as const;

/**
 * llama.cpp's figures measured in this run beside ours: medians, and ratios that are the
 * medians of the paired per-round ratios (none when `withRatio` is false).
 */
export function measuredLlamaCpp(
  runner: LlamaCppRunner,
  ours: RunResult[],
  theirs: LlamaCppRound[],
  withRatio: boolean,
): LlamaCppSource {
  const paired = (ratio: (o: RunResult, t: LlamaCppRound) => number) =>
    withRatio ? median(ours.map((o, i) => ratio(o, theirs[i]))) : null;
  const afterPrompt = theirs.every((t) => t.afterPromptDecodeTokensPerSecond !== undefined);
  return {
    source: "this run",
    runner,
    prefillTokensPerSecond: median(theirs.map((t) => t.prefillTokensPerSecond)),
    decodeTokensPerSecond: median(theirs.map((t) => t.decodeTokensPerSecond)),
    afterPromptDecodeTokensPerSecond: afterPrompt
      ? median(theirs.map((t) => t.afterPromptDecodeTokensPerSecond!))
      : null,
    prefillRatio: paired((o, t) => o.prefillTokensPerSecond / t.prefillTokensPerSecond),
    decodeRatio: paired((o, t) => o.emptyContextDecodeTokensPerSecond / t.decodeTokensPerSecond),
    afterPromptDecodeRatio: afterPrompt
      ? paired((o, t) => o.decodeTokensPerSecond / t.afterPromptDecodeTokensPerSecond!)
      : null,
    afterPromptRatio: afterPrompt
      ? median(theirs.map((t) => t.afterPromptDecodeTokensPerSecond! / t.decodeTokensPerSecond))
      : null,
    rounds: ours.map((o, i) => ({
      ours: {
        prefillTokensPerSecond: o.prefillTokensPerSecond,
        decodeTokensPerSecond: o.emptyContextDecodeTokensPerSecond,
        afterPromptDecodeTokensPerSecond: o.decodeTokensPerSecond,
      },
      llamaCpp: theirs[i],
    })),
  };
}

/** llama.cpp's fixed figures beside ours, with ratios to them on the CPU only. */
export function fixedLlamaCpp(
  shape: Shape,
  dtype: ShardDType,
  ourPrefill: number,
  ourDecode: number,
  onCpu: boolean,
): LlamaCppSource {
  // The fixed figures are CPU figures of this machine kind: no ratio for a GPU row.
  const ref = llamaCpp(shape, dtype);
  return {
    source: "fixed",
    prefillTokensPerSecond: ref?.prefill512 ?? null,
    decodeTokensPerSecond: ref?.decode128 ?? null,
    prefillRatio: ref && onCpu ? ourPrefill / ref.prefill512 : null,
    decodeRatio: ref && onCpu ? ourDecode / ref.decode128 : null,
  };
}

/** What the report says about llama.cpp beyond each row (also written to --json). */
export interface LlamaCppReport {
  /** How llama.cpp ran in this run; null when it did not. */
  label: string | null;
  /** Which way it ran; null when it did not. */
  runner: LlamaCppRunner | null;
  /** Where it ran (when set up). */
  device: LlamaCppDevice | null;
  /** Why some or all rows hold the fixed figures. */
  fallback: string;
  /** Per shape: the GGUF model check, or why it was not made. */
  checks: Record<string, ModelMatch | string>;
}

/** One line on a shape's GGUF check. */
export function describeCheck(check: ModelMatch | string): string {
  const what = "GGUF check (llama.cpp F32 against our float32)";
  if (typeof check === "string") return `${what}: ${check}`;
  return `${what}: ${check.same ? "same model" : "NOT THE SAME MODEL"}: ${check.summary}`;
}

/**
 * What a provider's figures are: WebGPU on Mesa's lavapipe runs on the CPU, so its figures
 * show the GPU path works, not how fast a GPU is.
 */
export function providerLabel(provider: ExecutionProvider): string {
  if (provider !== "webgpu") return provider;
  const icd = Deno.env.get("VK_DRIVER_FILES") ?? Deno.env.get("VK_ICD_FILENAMES") ?? "";
  return /lvp/.test(icd)
    ? "webgpu on lavapipe (Vulkan on the CPU: NOT GPU figures)"
    : "webgpu (adapter as Dawn found it)";
}

function fixed(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? "n/a" : value.toFixed(digits);
}

function change(now: number, before: number | undefined): string {
  if (before === undefined || before === 0) return "n/a";
  const pct = (now / before - 1) * 100;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
}

/** How the run was made, as the report describes it. */
export interface RunDescription {
  runs: number;
  prompt: number;
  decode: number;
  /** Printed above the speed table (a busy machine), or null. */
  warning?: string | null;
}

/** Prints every table of the report. */
export function printResults(
  results: BenchResult[],
  baseline: BenchResult[] | null,
  llama: LlamaCppReport,
  run: RunDescription,
): void {
  console.log("\nWhere ONNX Runtime ran each shard (from the load's profiled warm-up run)");
  console.log(table(
    ["shape", "dtype", "provider", "ran on", "placement"],
    results.map((r) => [
      r.shape,
      r.dtype,
      providerLabel(r.executionProvider),
      r.activeProvider,
      r.placement,
    ]),
  ));
  printSpeed(results, llama, run);
  console.log("\nLoad and memory (MB = 10^6 bytes; target: peak RSS <= 1.2 x weights + 300 MB)");
  console.log(table(
    [
      "shape",
      "dtype",
      "TTFT ms",
      "cold load s",
      "warm load s",
      "weights MB",
      "peak RSS MB",
      "limit MB",
      "RSS",
      "convert RSS MB",
    ],
    results.map((r) => [
      r.shape,
      r.dtype,
      fixed(r.timeToFirstTokenMs, 0),
      fixed(r.coldLoadMs / 1000, 2),
      fixed(r.warmLoadMs / 1000, 2),
      fixed(r.weightBytes / MB, 0),
      fixed(r.peakRssBytes / MB, 0),
      fixed(r.rssLimitBytes / MB, 0),
      r.rssPass ? "pass" : "FAIL",
      fixed(r.conversionPeakRssBytes / MB, 0),
    ]),
  ));
  printTargets(results);
  printBounds(results);
  printProfiles(results);
  if (baseline) printChange(results, baseline);
}

function printBounds(results: BenchResult[]): void {
  const bounded = results.filter((r) => r.floor);
  if (bounded.length === 0) return;
  console.log(
    "\nBounds of a CPU decode step from an empty context: the projection kernels alone, and " +
      "ORT's fewest-node form of the shard (fused GroupQueryAttention graph, float32; it " +
      "copies its cache every step, so it does not serve); ratios are medians of paired rounds",
  );
  console.log(table(
    [
      "shape",
      "dtype",
      "step ms (nodes)",
      "projections ms",
      "step / projections",
      "fused floor ms (nodes)",
      "floor / projections",
      "step / floor",
    ],
    bounded.map((r) => [
      r.shape,
      r.dtype,
      `${fixed(1000 / r.emptyContextDecodeTokensPerSecond, 2)} (${r.nodes ?? "?"})`,
      fixed(r.projectionsMs, 2),
      fixed(r.stepOverProjections, 2),
      `${fixed(r.floor!.stepMs, 2)} (${r.floor!.nodes})`,
      fixed(r.floor!.overProjections, 2),
      fixed(r.floor!.stepOverFloor, 2),
    ]),
  ));
}

function printProfiles(results: BenchResult[]): void {
  const profiled = results.filter((r) => r.profile);
  if (profiled.length === 0) return;
  console.log(
    "\nWhere a decode step's time goes (ORT's profiler; it slows each node a little: read " +
      "shares, not speeds)",
  );
  for (const r of profiled) {
    const { empty, afterPrompt } = r.profile!;
    console.log(
      `${r.shape} ${r.dtype} from an empty context, ${describeProfile(empty).join("\n")}`,
    );
    console.log(
      `${r.shape} ${r.dtype} after the prompt, ${describeProfile(afterPrompt).join("\n")}`,
    );
  }
}

function verdict(pass: boolean | null): string {
  return pass === null ? "" : pass ? " pass" : " MISS";
}

function printTargets(results: BenchResult[]): void {
  console.log(
    `\nTargets: a decode step (from an empty context) <= ${TARGETS.stepOverProjections} x its ` +
      `projection kernels alone (bench:kernels' graph, same run, CPU only); decode after the ` +
      `prompt >= ${TARGETS.afterPrompt} x from an empty context (beside it llama.cpp's own ` +
      "ratio, this run); no stalled step in the long generation; peak RSS <= limit at load " +
      "and after it",
  );
  console.log(table(
    [
      "shape",
      "dtype",
      "step ms",
      "projections ms",
      "step / projections",
      "after prompt / empty",
      "llama.cpp's",
      "steps",
      "p99 step ms",
      "slowest step ms (at)",
      "RSS at load MB",
      "RSS after MB",
      "limit MB",
    ],
    results.map((r) => {
      const ratio = r.stepOverProjections ?? null;
      const after = r.afterPromptRatio ?? null;
      return [
        r.shape,
        r.dtype,
        fixed(1000 / r.emptyContextDecodeTokensPerSecond, 2),
        fixed(r.projectionsMs, 2),
        `${fixed(ratio, 2)}${
          verdict(ratio === null ? null : ratio <= TARGETS.stepOverProjections)
        }`,
        `${fixed(after, 2)}${verdict(after === null ? null : after >= TARGETS.afterPrompt)}`,
        fixed(r.llamaCpp?.afterPromptRatio, 2),
        String(r.longSteps ?? "n/a"),
        fixed(r.p99StepMs, 1),
        `${fixed(r.slowestStepMs, 1)} (${r.slowestStep ?? "?"})`,
        `${fixed(r.loadRssBytes === undefined ? undefined : r.loadRssBytes / MB, 0)}${
          verdict(r.loadRssBytes === undefined ? null : r.loadRssBytes <= r.rssLimitBytes)
        }`,
        `${fixed(r.peakRssBytes / MB, 0)}${verdict(r.rssPass)}`,
        fixed(r.rssLimitBytes / MB, 0),
      ];
    }),
  ));
}

/** What a row's llama.cpp figures are: "llama-bench, this run", "FIXED (earlier day)", ... */
export function llamaCppSourceLabel(ref: LlamaCppSource | undefined): string {
  if (ref === undefined) return "none for a GPU row";
  if (ref.source === "fixed") return "FIXED (earlier day)";
  return ref.runner === "llama-bench"
    ? "llama-bench, this run"
    : "node-llama-cpp (FALLBACK), this run";
}

function printSpeed(results: BenchResult[], llama: LlamaCppReport, run: RunDescription): void {
  const anyFixed = results.some((r) => r.llamaCpp?.source !== "this run");
  console.log(
    "\nSpeed (ratio = ours / llama.cpp; decode after the prompt = the first " +
      `${run.decode} tokens after the ${run.prompt}-token prompt, like llama-bench's tg${run.decode} ` +
      `@ d${run.prompt}; decode from empty = ${run.decode} tokens after a one-token prompt, like ` +
      `its tg${run.decode}; n/a = no llama.cpp figure for that column)`,
  );
  if (run.warning) console.log(run.warning);
  if (llama.label !== null) {
    console.log(
      `llama.cpp "this run": measured now on the same weights (GGUF), ${run.runs} round(s) ` +
        "interleaved with ours (who goes first alternates), same thread count; medians, ratio = " +
        `median of the paired per-round ratios; ${llama.label}`,
    );
  }
  for (const [shape, check] of Object.entries(llama.checks)) {
    console.log(`${shape}: ${describeCheck(check)}`);
  }
  if (anyFixed) {
    console.log(
      `llama.cpp "fixed": ${FIXED_LLAMA_CPP_LABEL} (llama-bench pp512/tg128; nothing after ` +
        "the prompt)" + (llama.fallback ? `; ${llama.fallback}` : ""),
    );
  }
  console.log(table(
    [
      "shape",
      "dtype",
      "prefill tok/s",
      "llama.cpp",
      "ratio",
      "decode after prompt",
      "llama.cpp",
      "ratio",
      "decode from empty",
      "llama.cpp",
      "ratio",
      "llama.cpp from",
    ],
    results.map((r) => {
      // The fixed figures are CPU figures of this machine kind: nothing to set a GPU row by.
      const ref = r.activeProvider === "cpu" || r.llamaCpp?.source === "this run"
        ? r.llamaCpp
        : undefined;
      return [
        r.shape,
        `${r.dtype} (${LLAMA_CPP_PRECISION[r.dtype]})${
          r.activeProvider === "cpu" ? "" : ` on ${r.activeProvider}`
        }`,
        fixed(r.prefillTokensPerSecond),
        fixed(ref?.prefillTokensPerSecond),
        fixed(ref?.prefillRatio, 2),
        fixed(r.decodeTokensPerSecond),
        fixed(ref?.afterPromptDecodeTokensPerSecond),
        fixed(ref?.afterPromptDecodeRatio, 2),
        fixed(r.emptyContextDecodeTokensPerSecond),
        fixed(ref?.decodeTokensPerSecond),
        fixed(ref?.decodeRatio, 2),
        llamaCppSourceLabel(ref),
      ];
    }),
  ));
}

function printChange(results: BenchResult[], baseline: BenchResult[]): void {
  console.log("\nChange vs baseline (+ is higher; higher is better for tok/s, worse for the rest)");
  console.log(table(
    [
      "shape",
      "dtype",
      "prefill",
      "decode",
      "decode empty",
      "TTFT",
      "cold load",
      "warm load",
      "peak RSS",
    ],
    results.map((r) => {
      const b = baseline.find((x) =>
        x.shape === r.shape && x.dtype === r.dtype &&
        // Reports from before --execution-provider ran on the CPU.
        (x.executionProvider ?? "cpu") === r.executionProvider
      );
      return [
        r.shape,
        r.dtype,
        change(r.prefillTokensPerSecond, b?.prefillTokensPerSecond),
        change(r.decodeTokensPerSecond, b?.decodeTokensPerSecond),
        change(r.emptyContextDecodeTokensPerSecond, b?.emptyContextDecodeTokensPerSecond),
        change(r.timeToFirstTokenMs, b?.timeToFirstTokenMs),
        change(r.coldLoadMs, b?.coldLoadMs),
        change(r.warmLoadMs, b?.warmLoadMs),
        change(r.peakRssBytes, b?.peakRssBytes),
      ];
    }),
  ));
}
