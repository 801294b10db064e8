import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { estimateCpuFlops, parseMaxFreqKhz } from "../../lib/topology/cpu_flops.ts";

/** /proc/cpuinfo text of `count` processors, each a hyperthread pair sharing a core. */
function x86(count: number, flags: string, mhz = "2600.000", threadsPerCore = 2): string {
  return Array.from(
    { length: count },
    (_, n) =>
      `processor\t: ${n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n` +
      `cpu MHz\t\t: ${mhz}\nphysical id\t: 0\ncore id\t\t: ${Math.floor(n / threadsPerCore)}\n` +
      `flags\t\t: fpu ${flags}\n`,
  ).join("\n");
}

Deno.test("estimateCpuFlops counts AVX-512 at 32 fp32 flops per cycle and core", () => {
  const estimate = estimateCpuFlops(
    x86(2, "sse sse2 avx fma avx2 avx512f avx512_vnni", "2599.998", 1),
  );
  deepStrictEqual(estimate, {
    cores: 2,
    ghz: 2.6,
    simd: "AVX-512",
    flopsPerCycle: 32,
    flops: { fp32: 0.17, fp16: 0.17, int8: 0.67 },
  });
});

Deno.test("estimateCpuFlops ranks vector units: AVX2+FMA, AVX, SSE, none", () => {
  const perCycle = (flags: string) => estimateCpuFlops(x86(2, flags))?.flopsPerCycle;
  strictEqual(perCycle("sse sse2 avx fma avx2"), 32);
  strictEqual(perCycle("sse sse2 avx"), 16);
  strictEqual(perCycle("sse sse2"), 8);
  strictEqual(perCycle("vme de"), 2);
});

Deno.test("estimateCpuFlops counts physical cores, not hyperthreads", () => {
  strictEqual(estimateCpuFlops(x86(8, "avx2 fma"))?.cores, 4);
  strictEqual(estimateCpuFlops(x86(8, "avx2 fma", "2600", 1))?.cores, 8);
});

Deno.test("estimateCpuFlops reads ARM's Features and takes the cpufreq clock", () => {
  const cpu = (n: number) =>
    `processor\t: ${n}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid asimdhp asimddp\n` +
    `CPU implementer\t: 0x41\nCPU part\t: 0xd0b\n`;
  const text = [0, 1, 2, 3].map(cpu).join("\n") + "\nHardware\t: BCM2712\n";
  strictEqual(estimateCpuFlops(text), undefined, "no clock in the text, none given");
  deepStrictEqual(estimateCpuFlops(text, 2_400_000), {
    cores: 4,
    ghz: 2.4,
    simd: "NEON",
    flopsPerCycle: 16,
    flops: { fp32: 0.15, fp16: 0.31, int8: 0.61 },
  });
});

Deno.test("estimateCpuFlops gives up on text without processors", () => {
  strictEqual(estimateCpuFlops(""), undefined);
  strictEqual(estimateCpuFlops("cpu MHz : 2000\n"), undefined);
});

Deno.test("parseMaxFreqKhz reads cpufreq's kHz and refuses other text", () => {
  strictEqual(parseMaxFreqKhz("3000000\n"), 3_000_000);
  strictEqual(parseMaxFreqKhz(""), undefined);
  strictEqual(parseMaxFreqKhz("fast"), undefined);
  strictEqual(parseMaxFreqKhz("0"), undefined);
});
