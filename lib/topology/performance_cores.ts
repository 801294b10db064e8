import { physicalCores } from "./cpu_flops.ts";
import { denoSystemProbe, type SystemProbe } from "./detect_capabilities.ts";

/** How many cores compute well, and where that number came from (for the log). */
export interface PerformanceCores {
  cores: number;
  source: string;
}

/**
 * The cores ONNX Runtime's threads should use: on Apple Silicon the performance cores
 * only (`hw.perflevel0.physicalcpu`; a thread on an efficiency core finishes its share of
 * every kernel last and holds the whole step back), else the physical cores (`hw.physicalcpu`
 * on an Intel Mac, /proc/cpuinfo on Linux: hyperthreads share one core's arithmetic),
 * else the logical processors the runtime reports.
 */
export async function detectPerformanceCores(
  probe: SystemProbe = denoSystemProbe(),
): Promise<PerformanceCores> {
  if (probe.os === "darwin") {
    for (const key of ["hw.perflevel0.physicalcpu", "hw.physicalcpu"]) {
      const cores = parseCount(await probe.run("sysctl", ["-n", key]));
      if (cores !== undefined) return { cores, source: `sysctl ${key}` };
    }
  }
  if (probe.os === "linux") {
    const cpuinfo = await probe.readTextFile("/proc/cpuinfo");
    const cores = cpuinfo === null ? 0 : physicalCores(cpuinfo);
    if (cores > 0) return { cores, source: "physical cores in /proc/cpuinfo" };
  }
  return { cores: Math.max(1, navigator.hardwareConcurrency), source: "logical processors" };
}

function parseCount(text: string | null): number | undefined {
  const value = Number(text?.trim());
  return text !== null && Number.isInteger(value) && value > 0 ? value : undefined;
}
