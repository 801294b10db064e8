import type { DeviceFlops } from "./device_capabilities.ts";

/** How a Linux CPU's throughput was estimated, for the log. */
export interface CpuFlopsEstimate {
  /** Physical cores (hyperthreads add no arithmetic units). */
  cores: number;
  ghz: number;
  /** The widest vector unit found in the CPU flags, e.g. "AVX-512", "AVX2+FMA", "NEON". */
  simd: string;
  /** fp32 operations per cycle and core: lanes × 2 for a fused multiply-add × FMA pipes. */
  flopsPerCycle: number;
  flops: DeviceFlops;
}

interface SimdUnit {
  name: string;
  flopsPerCycle: number;
}

/**
 * Estimates a CPU's peak throughput from /proc/cpuinfo text: physical cores × clock ×
 * fp32 operations per cycle of its widest vector unit. The clock is `maxKhz` (cpufreq's
 * `cpuinfo_max_freq`) when known, else the mean `cpu MHz`. Per cycle and core: AVX-512
 * 16 lanes × 2 (FMA) × 1 pipe = 32 (most AVX-512 cores have one 512-bit FMA pipe or split
 * it in two 256-bit halves); AVX2 with FMA 8 × 2 × 2 pipes = 32; AVX without FMA, a
 * multiply and an add of 8 lanes = 16; SSE 4 + 4 = 8; ARM NEON/ASIMD 4 lanes × 2 × 2 pipes
 * = 16; otherwise one scalar FMA = 2. fp16 is counted as fp32 (x86 CPUs compute float16 in
 * float32) unless ARM reports half-precision vectors (`asimdhp`, 2×); int8 is 4× with
 * dot-product instructions (`avx512_vnni`, `avx_vnni`, ARM `asimddp`), else 2×.
 *
 * A peak figure that only ranks machines; the layer split weighs memory, not TFLOPS.
 * Undefined when the text names no processor or no clock is known.
 */
export function estimateCpuFlops(cpuinfo: string, maxKhz?: number): CpuFlopsEstimate | undefined {
  const cores = physicalCores(cpuinfo);
  const mhz = maxKhz !== undefined && maxKhz > 0 ? maxKhz / 1000 : meanMhz(cpuinfo);
  if (cores === 0 || mhz === undefined) return undefined;
  const flags = cpuFlags(cpuinfo);
  const unit = simdUnit(flags);
  const ghz = Math.round(mhz) / 1000;
  const fp32 = cores * ghz * unit.flopsPerCycle / 1000;
  const fp16 = flags.has("asimdhp") ? fp32 * 2 : fp32;
  const dot = flags.has("avx512_vnni") || flags.has("avx_vnni") || flags.has("asimddp");
  return {
    cores,
    ghz,
    simd: unit.name,
    flopsPerCycle: unit.flopsPerCycle,
    flops: { fp32: round2(fp32), fp16: round2(fp16), int8: round2(fp32 * (dot ? 4 : 2)) },
  };
}

/** Reads cpufreq's `cpuinfo_max_freq` text (kHz); undefined when it is not a number. */
export function parseMaxFreqKhz(text: string): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(value) && value > 0 ? value : undefined;
}

function simdUnit(flags: ReadonlySet<string>): SimdUnit {
  if (flags.has("avx512f")) return { name: "AVX-512", flopsPerCycle: 32 };
  if (flags.has("avx2") && flags.has("fma")) return { name: "AVX2+FMA", flopsPerCycle: 32 };
  if (flags.has("avx")) return { name: "AVX", flopsPerCycle: 16 };
  if (flags.has("sse2") || flags.has("sse")) return { name: "SSE", flopsPerCycle: 8 };
  if (flags.has("asimd") || flags.has("neon")) return { name: "NEON", flopsPerCycle: 16 };
  return { name: "scalar", flopsPerCycle: 2 };
}

/**
 * Physical cores in /proc/cpuinfo text: distinct (physical id, core id) pairs, the
 * processor count when the kernel prints none.
 */
export function physicalCores(cpuinfo: string): number {
  const blocks = cpuinfo.split(/\n\s*\n/).filter((block) => /^processor\s*:/m.test(block));
  const pairs = new Set<string>();
  for (const block of blocks) {
    const core = field(block, "core id");
    if (core === undefined) return blocks.length;
    pairs.add(`${field(block, "physical id") ?? "0"}/${core}`);
  }
  return pairs.size;
}

function meanMhz(cpuinfo: string): number | undefined {
  const values = [...cpuinfo.matchAll(/^cpu MHz\s*:\s*([\d.]+)\s*$/gm)]
    .map((match) => Number(match[1]))
    .filter((value) => Number.isFinite(value) && value > 0);
  if (values.length === 0) return undefined;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** x86's `flags` or ARM's `Features` of the first processor. */
function cpuFlags(cpuinfo: string): Set<string> {
  const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo);
  return new Set(line ? line[1].trim().split(/\s+/) : []);
}

function field(block: string, name: string): string | undefined {
  return new RegExp(`^${name}\\s*:\\s*(.*?)\\s*$`, "m").exec(block)?.[1];
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
