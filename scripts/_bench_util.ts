/**
 * Pieces the benchmark scripts share: option parsing that throws what `parseOrExit` prints,
 * the benchmark shapes and dtypes, a deterministic prompt, the median, a Markdown table and
 * the JSON report's header.
 * @module
 */
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";

/** A benchmark shape: random weights in a real model's sizes. */
export type Shape = keyof typeof realShapeSpecs;

/** Every benchmark shape, in the order the scripts run them. */
export const SHAPES = Object.keys(realShapeSpecs) as Shape[];

/** Every weight dtype a shard can be built in. */
export const DTYPES: readonly ShardDType[] = ["float32", "float16", "q4"];

/** A comma-separated list of allowed names, e.g. `--shapes a,b`. */
export function listOf<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new RangeError(`Cannot benchmark: unknown ${what} "${item}", use ${allowed.join(",")}`);
    }
  }
  if (items.length === 0) throw new RangeError(`Cannot benchmark: no ${what} given`);
  return items as T[];
}

/** A positive integer option, e.g. `--runs 3`. */
export function positive(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot benchmark: --${name} must be a positive integer, got ${value}`);
  }
  return n;
}

/**
 * `count` token ids below min(vocab, 128000) (clear of the special tokens at the top of a
 * Llama 3 vocab) from an xorshift stream: the same for the same seed, different across
 * seeds, so prompts are repeatable without a tokenizer.
 */
export function promptTokens(count: number, vocab: number, seed = 0): number[] {
  let x = (0x9e3779b9 ^ (seed * 0x85ebca6b)) >>> 0 || 1;
  const ids: number[] = [];
  const range = Math.min(vocab, 128000);
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    ids.push((x >>> 0) % range);
  }
  return ids;
}

/** The median; the mean of the two middle values for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A Markdown table with padded columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * A warning when the machine is busy before the benchmark starts: a 1-minute load average of
 * at least half the CPUs means other processes take cores the two sides need. Both sides'
 * figures fall then, and not by the same factor (llama.cpp's threads wait for each other at
 * every op, so one descheduled thread stalls it), so their ratio says little.
 */
export function busyMachineWarning(load1: number, cpus: number): string | null {
  if (load1 < cpus / 2) return null;
  return `WARNING: the machine was busy when the run began (load average ${load1.toFixed(1)} ` +
    `on ${cpus} cpus): figures and ratios are not trustworthy; rerun on a quiet machine`;
}

/** Writes a JSON report: when and where it ran, then the script's own fields. */
export async function writeReport(path: string, fields: Record<string, unknown>): Promise<void> {
  const report = {
    date: new Date().toISOString(),
    target: Deno.build.target,
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    ...fields,
  };
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n");
}

/**
 * Reads from `conn` until `into` is full; false when the stream ended before its first byte.
 * @throws {Error} when the stream ends part-way through `into`.
 */
export async function readExactly(conn: Deno.Conn, into: Uint8Array): Promise<boolean> {
  let offset = 0;
  while (offset < into.length) {
    const n = await conn.read(into.subarray(offset));
    if (n === null) {
      if (offset === 0) return false;
      throw new Error(`Connection closed after ${offset} of ${into.length} bytes`);
    }
    offset += n;
  }
  return true;
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
