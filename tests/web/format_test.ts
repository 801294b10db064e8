import assert from "node:assert/strict";
import {
  formatBytes,
  formatEta,
  formatLayers,
  formatMemoryMb,
  formatMs,
  formatParameters,
  formatPercent,
  formatRtt,
  formatSpeed,
  formatTflops,
  formatTokensPerSecond,
  formatWhen,
} from "../../web/src/lib/format.ts";

Deno.test("formatBytes writes GB (2^30) with one decimal below 100, MB (2^20) whole below 1 GB", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1 KB");
  assert.equal(formatBytes(340 * 2 ** 20 + 200_000), "340 MB");
  assert.equal(formatBytes(2 ** 30 - 1), "1.0 GB", "never 1024 MB");
  assert.equal(formatBytes(2 ** 30), "1.0 GB");
  assert.equal(formatBytes(2_471_000_000), "2.3 GB");
  assert.equal(formatBytes(24105 * 2 ** 20), "23.5 GB");
  assert.equal(formatBytes(99.96 * 2 ** 30), "100 GB", "no 100.0 GB");
  assert.equal(formatBytes(141.2e9), "132 GB");
  assert.equal(formatBytes(-1), "—");
  assert.equal(formatBytes(NaN), "—");
  assert.equal(formatSpeed(12_400_000), "12 MB/s");
  assert.equal(formatSpeed(0), "—");
});

Deno.test("formatParameters writes counts as model names do", () => {
  assert.equal(formatParameters(135e6), "135M");
  assert.equal(formatParameters(0.49e9), "490M");
  assert.equal(formatParameters(1.24e9), "1.24B");
  assert.equal(formatParameters(4.0e9), "4B");
  assert.equal(formatParameters(70.6e9), "70.6B");
  assert.equal(formatParameters(0), "—");
});

Deno.test("formatEta, formatMs and formatRtt round to what a person reads", () => {
  assert.equal(formatEta(44.6), "45 s");
  assert.equal(formatEta(200), "3 min 20 s");
  assert.equal(formatEta(180), "3 min");
  assert.equal(formatEta(7500), "2 h 5 min");
  assert.equal(formatEta(null), "—");
  assert.equal(formatMs(850.4), "850 ms");
  assert.equal(formatMs(1430), "1.4 s");
  assert.equal(formatMs(12_600), "13 s");
  assert.equal(formatRtt(0.42), "0.4 ms");
  assert.equal(formatRtt(25), "25 ms");
});

Deno.test("formatTokensPerSecond, memory, TFLOPS, layers and percent", () => {
  assert.equal(formatTokensPerSecond(42.34), "42.3 tok/s");
  assert.equal(formatTokensPerSecond(128.4), "128 tok/s");
  assert.equal(formatTokensPerSecond(null), "—");
  assert.equal(formatMemoryMb(24105), "23.5 GB", "one unit everywhere: MB / 1024");
  assert.equal(formatMemoryMb(16384), "16.0 GB");
  assert.equal(formatMemoryMb(196608), "192 GB");
  assert.equal(formatMemoryMb(0), "—");
  assert.equal(formatTflops(3.554), "3.55 TFLOPS");
  assert.equal(formatTflops(0), "— TFLOPS");
  assert.equal(formatLayers(0, 7, 16), "layers 0–7 of 16");
  assert.equal(formatLayers(3, 3, 16), "layer 3 of 16");
  assert.equal(formatPercent(999, 1000, false), "99%", "never 100% before done");
  assert.equal(formatPercent(5, 0, false), "0%");
  assert.equal(formatPercent(0, 0, true), "100%");
});

Deno.test("formatWhen says how long ago, then the date", () => {
  const now = Date.UTC(2026, 11, 4, 12);
  assert.equal(formatWhen(now - 5_000, now), "just now");
  assert.equal(formatWhen(now - 5 * 60_000, now), "5 min ago");
  assert.equal(formatWhen(now - 3 * 3_600_000, now), "3 h ago");
  assert.match(formatWhen(now - 5 * 86_400_000, now), /Nov|29/);
});
