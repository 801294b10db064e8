/**
 * How the page writes figures: sizes, speeds, times, rates. Pure functions, one unit each.
 * @module
 */

import { formatMemory, formatSize } from "../../../lib/format/sizes.ts";

/**
 * Bytes the way every view writes sizes (lib/format/sizes.ts, shared with the node's log and
 * terminal view): `23.5 GB`, `192 GB`, `340 MB`, `12 B`; a dash for no figure.
 */
export function formatBytes(bytes: number): string {
  return !Number.isFinite(bytes) || bytes < 0 ? "—" : formatSize(bytes);
}

/** A transfer speed: `12 MB/s`. */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return "—";
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds left, rounded to what a person reads: `45 s`, `3 min 20 s`, `2 h 5 min`. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return s % 60 === 0 ? `${minutes} min` : `${minutes} min ${s % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** A short duration in ms: `850 ms`, `1.4 s`, `12 s`. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** A network round trip: `0.4 ms`, `12 ms`. */
export function formatRtt(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  return ms < 10 ? `${ms.toFixed(1)} ms` : formatMs(ms);
}

/** Tokens per second: `42.3 tok/s`, `128 tok/s`. */
export function formatTokensPerSecond(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate) || rate <= 0) return "—";
  return `${rate < 100 ? rate.toFixed(1) : Math.round(rate)} tok/s`;
}

/** A node's memory, reported in MB (MiB), in GB as the node's log shows it: `23.5 GB`. */
export function formatMemoryMb(mb: number): string {
  return !Number.isFinite(mb) || mb <= 0 ? "—" : formatMemory(mb);
}

/** A parameter count as model names write it: `135M`, `1.24B`, `70.6B`. */
export function formatParameters(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return "—";
  if (count < 1e9) return `${Math.round(count / 1e6)}M`;
  const billions = count / 1e9;
  return `${Number(billions.toPrecision(3))}B`;
}

/** Throughput in TFLOPS: `3.55 TFLOPS`; unknown (0) as a dash. */
export function formatTflops(tflops: number): string {
  if (!Number.isFinite(tflops) || tflops <= 0) return "— TFLOPS";
  return `${tflops < 10 ? tflops.toFixed(2) : tflops.toFixed(1)} TFLOPS`;
}

/** A layer range, inclusive: `layers 0–7 of 16`, or `layer 3 of 16`. */
export function formatLayers(start: number, end: number, total: number): string {
  return start === end ? `layer ${start} of ${total}` : `layers ${start}–${end} of ${total}`;
}

/** Percent of a download, never 100 before it is done: `42%`. */
export function formatPercent(bytes: number, total: number, done: boolean): string {
  if (done) return "100%";
  if (!(total > 0)) return "0%";
  return `${Math.min(99, Math.floor((bytes / total) * 100))}%`;
}

/** When a conversation was last touched, relative to `now`: `just now`, `5 min ago`, a date. */
export function formatWhen(at: number, now: number): string {
  const seconds = (now - at) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  const date = new Date(at);
  return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A moment in local time: `21:57` on the day of `now`, `7 Dec 21:57` earlier that year,
 * `7 Dec 2025 21:57` before.
 */
export function formatClock(at: number, now: number): string {
  if (!Number.isFinite(at)) return "—";
  const date = new Date(at);
  const today = new Date(now);
  const time = `${String(date.getHours()).padStart(2, "0")}:${
    String(date.getMinutes()).padStart(2, "0")
  }`;
  if (date.toDateString() === today.toDateString()) return time;
  const day = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === today.getFullYear()
    ? `${day} ${time}`
    : `${day} ${date.getFullYear()} ${time}`;
}
