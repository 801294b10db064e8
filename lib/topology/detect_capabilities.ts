import type { Logger } from "../log/logger.ts";
import { lookupChipFlops } from "./chip_flops.ts";
import { estimateCpuFlops, parseMaxFreqKhz } from "./cpu_flops.ts";
import {
  type DeviceCapabilities,
  type DeviceFlops,
  UNKNOWN_CAPABILITIES,
} from "./device_capabilities.ts";

/** Values given on the command line that replace what detection finds. */
export interface CapabilityOverrides {
  /** Memory to offer the cluster, in MB. */
  memoryMb?: number;
  /** Chip name; a chip of the Apple table also brings its throughput. */
  chip?: string;
  /** fp32 throughput in TFLOPS; fp16 and int8 are scaled with it. */
  fp32Tflops?: number;
}

/** The operating system calls detection needs, replaceable in tests. */
export interface SystemProbe {
  /** `Deno.build.os` of the machine. */
  os: string;
  /** Runs a command and resolves to its trimmed stdout, or null when it cannot run or fails. */
  run(command: string, args: string[]): Promise<string | null>;
  /** Resolves to a file's text, or null when it cannot be read. */
  readTextFile(path: string): Promise<string | null>;
  /** Total memory in bytes from the runtime, or null when not permitted. */
  totalMemoryBytes(): number | null;
}

/** Options of {@linkcode detectCapabilities}. */
export interface DetectOptions {
  /** Where to ask; the real machine by default. */
  probe?: SystemProbe;
  /** Receives a debug line for every probe that failed. */
  logger?: Logger;
}

const MB = 1024 * 1024;
const NO_FLOPS: DeviceFlops = { fp32: 0, fp16: 0, int8: 0 };

/**
 * Finds this machine's model, chip, memory and throughput, then applies `overrides`.
 *
 * macOS asks `sysctl` (brand string, `hw.memsize`, `hw.model`) and looks the chip up in
 * the Apple table. Linux reads /proc/meminfo and /proc/cpuinfo and estimates the CPU's
 * throughput from its cores, clock and vector width (see estimateCpuFlops; 0 when no clock
 * is known). A probe that fails leaves its placeholder from UNKNOWN_CAPABILITIES, except
 * memory, which falls back to the runtime's figure.
 *
 * @throws {RangeError} when an override is negative or not finite.
 * @throws {TypeError} when the chip override is empty.
 */
export async function detectCapabilities(
  overrides: CapabilityOverrides = {},
  options: DetectOptions = {},
): Promise<DeviceCapabilities> {
  validateOverrides(overrides);
  const probe = options.probe ?? denoSystemProbe();
  const detected = probe.os === "darwin"
    ? await detectMac(probe, options.logger)
    : probe.os === "linux"
    ? await detectLinux(probe, options.logger)
    : { ...UNKNOWN_CAPABILITIES, flops: { ...NO_FLOPS } };
  if (detected.memory === 0) {
    const bytes = probe.totalMemoryBytes();
    if (bytes !== null) detected.memory = Math.floor(bytes / MB);
    else options.logger?.debug("Cannot detect memory: no source answered");
  }
  return applyOverrides(detected, overrides);
}

async function detectMac(probe: SystemProbe, logger?: Logger): Promise<DeviceCapabilities> {
  const [brand, memsize, hwModel] = await Promise.all([
    probe.run("sysctl", ["-n", "machdep.cpu.brand_string"]),
    probe.run("sysctl", ["-n", "hw.memsize"]),
    probe.run("sysctl", ["-n", "hw.model"]),
  ]);
  if (brand === null) logger?.debug("Cannot detect chip: sysctl machdep.cpu.brand_string failed");
  if (memsize === null) logger?.debug("Cannot detect memory: sysctl hw.memsize failed");
  const bytes = memsize === null ? undefined : parseMemsize(memsize);
  return {
    model: hwModel ? macModelName(hwModel) : UNKNOWN_CAPABILITIES.model,
    chip: brand || UNKNOWN_CAPABILITIES.chip,
    memory: bytes === undefined ? 0 : Math.floor(bytes / MB),
    flops: (brand && lookupChipFlops(brand)) || { ...NO_FLOPS },
  };
}

async function detectLinux(probe: SystemProbe, logger?: Logger): Promise<DeviceCapabilities> {
  const [meminfo, cpuinfo, maxFreq] = await Promise.all([
    probe.readTextFile("/proc/meminfo"),
    probe.readTextFile("/proc/cpuinfo"),
    probe.readTextFile("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"),
  ]);
  if (meminfo === null) logger?.debug("Cannot detect memory: /proc/meminfo is unreadable");
  if (cpuinfo === null) logger?.debug("Cannot detect chip: /proc/cpuinfo is unreadable");
  const estimate = cpuinfo === null
    ? undefined
    : estimateCpuFlops(cpuinfo, maxFreq === null ? undefined : parseMaxFreqKhz(maxFreq));
  if (estimate === undefined) {
    logger?.debug("Cannot estimate TFLOPS: /proc/cpuinfo names no processor or clock");
  } else {
    logger?.debug(
      `Estimated ${estimate.flops.fp32} TFLOPS fp32: ${estimate.cores} cores × ${estimate.ghz} GHz × ${estimate.flopsPerCycle} flops/cycle (${estimate.simd})`,
    );
  }
  return {
    model: "Linux Box",
    chip: (cpuinfo === null ? undefined : parseCpuModelName(cpuinfo)) ??
      UNKNOWN_CAPABILITIES.chip,
    memory: (meminfo === null ? undefined : parseMemTotalMb(meminfo)) ?? 0,
    flops: estimate?.flops ?? { ...NO_FLOPS },
  };
}

/** Reads `MemTotal` from /proc/meminfo text, in MB; undefined when absent. */
export function parseMemTotalMb(meminfo: string): number | undefined {
  const match = /^MemTotal:\s+(\d+)\s*kB\s*$/m.exec(meminfo);
  return match ? Math.floor(Number(match[1]) / 1024) : undefined;
}

/**
 * Reads the CPU name from /proc/cpuinfo text: x86's `model name`, else the `Hardware` or
 * `Model` line some ARM kernels print instead.
 */
export function parseCpuModelName(cpuinfo: string): string | undefined {
  for (const field of ["model name", "Hardware", "Model"]) {
    const match = new RegExp(`^${field}\\s*:\\s*(.+?)\\s*$`, "m").exec(cpuinfo);
    if (match && match[1]) return match[1].replace(/\s+/g, " ");
  }
  return undefined;
}

function parseMemsize(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

const MAC_FAMILIES: readonly [prefix: string, name: string][] = [
  ["MacBookPro", "MacBook Pro"],
  ["MacBookAir", "MacBook Air"],
  ["MacBook", "MacBook"],
  ["Macmini", "Mac mini"],
  ["MacPro", "Mac Pro"],
  ["iMacPro", "iMac Pro"],
  ["iMac", "iMac"],
];

/**
 * Names the family of a `hw.model` identifier ("MacBookPro18,3" is "MacBook Pro").
 * Apple silicon Macs since 2022 report a bare "Mac14,3" that names no family, so such an
 * identifier is returned as it is.
 */
export function macModelName(hwModel: string): string {
  const id = hwModel.trim();
  for (const [prefix, name] of MAC_FAMILIES) {
    if (new RegExp(`^${prefix}\\d+,\\d+$`).test(id)) return name;
  }
  return id;
}

/**
 * Applies command-line overrides to detected capabilities. A chip found in the Apple
 * table brings its throughput. An fp32 override keeps the fp16 and int8 ratios already
 * known, or uses Apple GPUs' 2× and 4× when none are.
 */
export function applyOverrides(
  detected: DeviceCapabilities,
  overrides: CapabilityOverrides,
): DeviceCapabilities {
  validateOverrides(overrides);
  const result: DeviceCapabilities = { ...detected, flops: { ...detected.flops } };
  if (overrides.chip !== undefined) {
    result.chip = overrides.chip;
    result.flops = lookupChipFlops(overrides.chip) ?? result.flops;
  }
  if (overrides.memoryMb !== undefined) result.memory = overrides.memoryMb;
  if (overrides.fp32Tflops !== undefined) {
    const { fp32, fp16, int8 } = result.flops;
    const fp16Ratio = fp32 > 0 ? fp16 / fp32 : 2;
    const int8Ratio = fp32 > 0 ? int8 / fp32 : 4;
    result.flops = {
      fp32: overrides.fp32Tflops,
      fp16: overrides.fp32Tflops * fp16Ratio,
      int8: overrides.fp32Tflops * int8Ratio,
    };
  }
  return result;
}

function validateOverrides(overrides: CapabilityOverrides): void {
  const { memoryMb, chip, fp32Tflops } = overrides;
  if (memoryMb !== undefined && !(Number.isFinite(memoryMb) && memoryMb >= 0)) {
    throw new RangeError(`Cannot override memory: ${memoryMb} is not a number of MB >= 0`);
  }
  if (fp32Tflops !== undefined && !(Number.isFinite(fp32Tflops) && fp32Tflops >= 0)) {
    throw new RangeError(`Cannot override fp32 TFLOPS: ${fp32Tflops} is not a number >= 0`);
  }
  if (chip !== undefined && (typeof chip !== "string" || chip.trim() === "")) {
    throw new TypeError("Cannot override chip: the name is empty");
  }
}

/** The real machine, through Deno's APIs; every failure resolves to null. */
export function denoSystemProbe(): SystemProbe {
  return {
    os: Deno.build.os,
    async run(command, args) {
      try {
        const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" })
          .output();
        return output.success ? new TextDecoder().decode(output.stdout).trim() : null;
      } catch {
        return null; // Not installed or --allow-run missing: the caller logs what it lacks.
      }
    },
    async readTextFile(path) {
      try {
        return await Deno.readTextFile(path);
      } catch (error) {
        // Deno asks for --allow-all to read /proc and /sys; `cat` needs only --allow-run.
        if (!(error instanceof Deno.errors.NotCapable)) return null;
        return await this.run("cat", [path]);
      }
    },
    totalMemoryBytes() {
      try {
        return Deno.systemMemoryInfo().total;
      } catch {
        return null;
      }
    },
  };
}
