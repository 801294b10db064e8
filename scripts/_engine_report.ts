// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * bench:engine's report: the result type written to --json, and the tables it prints.
 * @module
 */
import { type Shape, table } from "./_bench_util.ts";
import type { ModelMatch } from "./_llama_cpp_check.ts";
import { FIXED_LLAMA_CPP_LABEL, LLAMA_CPP_PRECISION } from "./_llama_cpp.ts";
import type { LlamaCppRound } from "./_llama_cpp_runner.ts";
import type { ExecutionProvider } from "../lib/inference/onnx/ort_session.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";

const MB = 1e6;

/** llama.cpp's figures beside one configuration, and where they come from. */
export interface LlamaCppSource {
  /** "this run": measured now, interleaved with ours; "fixed": scripts/_llama_cpp.ts. */
  source: "this run" | "fixed";
  prefillTokensPerSecond: number | null;
  decodeTokensPerSecond: number | null;
  /**
   * Ours / llama.cpp: the median of the paired per-round ratios (this run) or the ratio to
   * the fixed figure; null when there is none or the devices differ (CPU against a GPU).
   */
  prefillRatio: number | null;
  decodeRatio: number | null;
  /** Each round's llama.cpp figures (this run). */
  rounds?: LlamaCppRound[];
}

/** One configuration's figures, as written to --json. */
export interface BenchResult {
  shape: Shape;
  dtype: ShardDType;
  executionProvider: ExecutionProvider;
  activeProvider: ExecutionProvider;
  placement: string;
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
}

/** What the report says about llama.cpp beyond each row. */
export interface LlamaCppContext {
  /** How llama.cpp ran in this run; null when it did not. */
  measured: string | null;
  /** Why some or all rows hold the fixed figures. */
  fallback: string;
  /** Per shape: the GGUF model check, or why it was not made. */
  checks: Record<string, ModelMatch | string>;
  rounds: number;
  prompt: number;
  decode: number;
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

/** Prints every table of the report. */
export function printResults(
  results: BenchResult[],
  baseline: BenchResult[] | null,
  llama: LlamaCppContext,
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
  printSpeed(results, llama);
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
  if (baseline) printChange(results, baseline);
}

function printSpeed(results: BenchResult[], llama: LlamaCppContext): void {
  const anyFixed = results.some((r) => r.llamaCpp?.source !== "this run");
  console.log(
    "\nSpeed (ratio = ours / llama.cpp; decode ratio from the empty-context decode, like tg)",
  );
  if (llama.measured !== null) {
    console.log(
      `llama.cpp "this run": measured now on the same weights (GGUF), ${llama.rounds} round(s) ` +
        `interleaved with ours, prefill = ${llama.prompt} prompt tokens, decode = ${llama.decode} ` +
        "tokens from an empty context; medians, ratio = median of the paired per-round ratios; " +
        llama.measured,
    );
    for (const [shape, check] of Object.entries(llama.checks)) {
      const text = typeof check === "string"
        ? check
        : `${check.same ? "same model" : "NOT THE SAME MODEL"}: ${check.summary}`;
      console.log(`GGUF check, ${shape} (llama.cpp F32 against our float32): ${text}`);
    }
  }
  if (anyFixed) {
    console.log(
      `llama.cpp "fixed": ${FIXED_LLAMA_CPP_LABEL} (llama-bench pp512/tg128)` +
        (llama.fallback ? `; ${llama.fallback}` : ""),
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
      "decode from empty",
      "llama.cpp",
      "ratio",
      "llama.cpp from",
    ],
    results.map((r) => {
      const ref = r.llamaCpp;
      return [
        r.shape,
        `${r.dtype} (${LLAMA_CPP_PRECISION[r.dtype]})${
          r.activeProvider === "cpu" ? "" : ` on ${r.activeProvider}`
        }`,
        fixed(r.prefillTokensPerSecond),
        fixed(ref?.prefillTokensPerSecond),
        fixed(ref?.prefillRatio, 2),
        fixed(r.decodeTokensPerSecond),
        fixed(r.emptyContextDecodeTokensPerSecond),
        fixed(ref?.decodeTokensPerSecond),
        fixed(ref?.decodeRatio, 2),
        ref?.source === "this run" ? "this run" : "FIXED (earlier day)",
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
