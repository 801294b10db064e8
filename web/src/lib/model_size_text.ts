/**
 * What the page says about a model's size: its parameters, its download and the memory
 * it needs beside what the cluster has.
 * @module
 */
import type { ModelInfo } from "./api_client.ts";
import { formatBytes, formatParameters } from "./format.ts";
import type { MemoryFit } from "./model_status.ts";

/** One line for the picker, e.g. `1.24B · 2.3 GB download · needs 1.1 GB memory`. */
export function sizeLine(info: ModelInfo, fit: MemoryFit | null): string | null {
  const parts: string[] = [];
  if (typeof info.parameters === "number") parts.push(formatParameters(info.parameters));
  if (typeof info.download_bytes === "number") {
    parts.push(`${formatBytes(info.download_bytes)} download`);
  }
  if (fit !== null) {
    parts.push(
      fit.fits
        ? `needs ${formatBytes(fit.needs)} memory`
        : `needs ${formatBytes(fit.needs)} memory, more than the cluster's ${formatBytes(fit.has)}`,
    );
  } else if (typeof info.memory_bytes === "number") {
    parts.push(`needs ${formatBytes(info.memory_bytes)} memory`);
  }
  return parts.length === 0 ? null : parts.join(" · ");
}

/**
 * Why a model will not run on the cluster, for the download dialog; null when it fits or
 * either figure is unknown.
 */
export function tooLargeText(fit: MemoryFit | null, nodes: number): string | null {
  if (fit === null || fit.fits) return null;
  const where = nodes === 1 ? "this node has" : `the ${nodes} nodes have together`;
  return `It needs about ${formatBytes(fit.needs)} of memory to run, and ${where} ${
    formatBytes(fit.has)
  }. Add nodes or choose a smaller model.`;
}
