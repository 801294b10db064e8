import { deepStrictEqual, rejects, strictEqual, throws } from "node:assert/strict";
import {
  applyOverrides,
  detectCapabilities,
  macModelName,
  parseCpuModelName,
  parseMemTotalMb,
  type SystemProbe,
} from "../../lib/topology/detect_capabilities.ts";
import { Logger } from "../../lib/log/logger.ts";

const MEMINFO =
  "MemTotal:       16384000 kB\nMemFree:         1024000 kB\nMemAvailable:    8000000 kB\n";
const CPUINFO_X86 =
  "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\n" +
  "processor\t: 1\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\n";
const CPUINFO_ARM =
  "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";

function fakeProbe(
  overrides: Partial<SystemProbe> & { commands?: Record<string, string> },
): SystemProbe {
  const commands = overrides.commands ?? {};
  return {
    os: "linux",
    run: (command, args) => Promise.resolve(commands[[command, ...args].join(" ")] ?? null),
    readTextFile: () => Promise.resolve(null),
    totalMemoryBytes: () => null,
    ...overrides,
  };
}

const MAC_COMMANDS = {
  "sysctl -n machdep.cpu.brand_string": "Apple M2 Max",
  "sysctl -n hw.memsize": "34359738368",
  "sysctl -n hw.model": "MacBookPro18,3",
};

Deno.test("parseMemTotalMb reads MemTotal in MB", () => {
  strictEqual(parseMemTotalMb(MEMINFO), 16000);
  strictEqual(parseMemTotalMb("MemFree: 10 kB\n"), undefined);
  strictEqual(parseMemTotalMb(""), undefined);
});

Deno.test("parseCpuModelName reads x86's model name and ARM's Hardware line", () => {
  strictEqual(parseCpuModelName(CPUINFO_X86), "Intel(R) Xeon(R) CPU @ 2.20GHz");
  strictEqual(parseCpuModelName(CPUINFO_ARM), "BCM2835");
  strictEqual(parseCpuModelName("processor\t: 0\n"), undefined);
});

Deno.test("macModelName names the family of a hw.model identifier", () => {
  strictEqual(macModelName("MacBookPro18,3"), "MacBook Pro");
  strictEqual(macModelName("MacBookAir10,1"), "MacBook Air");
  strictEqual(macModelName("Macmini9,1\n"), "Mac mini");
  strictEqual(macModelName("iMac21,1"), "iMac");
  strictEqual(macModelName("Mac14,3"), "Mac14,3");
});

Deno.test("detectCapabilities on macOS reads sysctl and the chip table", async () => {
  const probe = fakeProbe({ os: "darwin", commands: MAC_COMMANDS });
  deepStrictEqual(await detectCapabilities({}, { probe }), {
    model: "MacBook Pro",
    chip: "Apple M2 Max",
    memory: 32768,
    flops: { fp32: 13.49, fp16: 26.98, int8: 53.96 },
  });
});

Deno.test("detectCapabilities on macOS falls back when sysctl fails, and says so", async () => {
  const lines: string[] = [];
  const probe = fakeProbe({ os: "darwin", totalMemoryBytes: () => 8 * 1024 ** 3 });
  const caps = await detectCapabilities({}, {
    probe,
    logger: new Logger("debug", (line) => lines.push(line)),
  });
  deepStrictEqual(caps, {
    model: "Unknown Model",
    chip: "Unknown Chip",
    memory: 8192,
    flops: { fp32: 0, fp16: 0, int8: 0 },
  });
  strictEqual(lines.some((line) => line.includes("brand_string")), true);
  strictEqual(lines.some((line) => line.includes("hw.memsize")), true);
});

Deno.test("detectCapabilities on Linux reads /proc and leaves flops unknown without a clock", async () => {
  const files: Record<string, string> = { "/proc/meminfo": MEMINFO, "/proc/cpuinfo": CPUINFO_X86 };
  const probe = fakeProbe({ readTextFile: (path) => Promise.resolve(files[path] ?? null) });
  deepStrictEqual(await detectCapabilities({}, { probe }), {
    model: "Linux Box",
    chip: "Intel(R) Xeon(R) CPU @ 2.20GHz",
    memory: 16000,
    flops: { fp32: 0, fp16: 0, int8: 0 },
  });
});

Deno.test("detectCapabilities on Linux estimates flops from cores, clock and vector width", async () => {
  const cpu = (n: number) =>
    `processor\t: ${n}\nmodel name\t: AMD EPYC 7B13\ncpu MHz\t\t: 2450.000\nphysical id\t: 0\n` +
    `core id\t\t: ${n >> 1}\nflags\t\t: fpu sse sse2 avx fma avx2\n`;
  const files: Record<string, string> = {
    "/proc/meminfo": MEMINFO,
    "/proc/cpuinfo": [0, 1, 2, 3].map(cpu).join("\n"),
    "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq": "3000000\n",
  };
  const lines: string[] = [];
  const probe = fakeProbe({ readTextFile: (path) => Promise.resolve(files[path] ?? null) });
  const caps = await detectCapabilities({}, {
    probe,
    logger: new Logger("debug", (l) => lines.push(l)),
  });
  // 2 physical cores (4 hyperthreads) × 3.0 GHz (cpufreq's max, not cpu MHz) × 32.
  deepStrictEqual(caps.flops, { fp32: 0.19, fp16: 0.19, int8: 0.38 });
  strictEqual(caps.chip, "AMD EPYC 7B13");
  strictEqual(lines.some((l) => l.includes("2 cores × 3 GHz × 32 flops/cycle (AVX2+FMA)")), true);
});

Deno.test("detectCapabilities applies every override", async () => {
  const probe = fakeProbe({ os: "darwin", commands: MAC_COMMANDS });
  const caps = await detectCapabilities({ memoryMb: 1000, chip: "Apple M1", fp32Tflops: 5 }, {
    probe,
  });
  deepStrictEqual(caps, {
    model: "MacBook Pro",
    chip: "Apple M1",
    memory: 1000,
    flops: { fp32: 5, fp16: 10, int8: 20 },
  });
});

Deno.test("detectCapabilities rejects a negative memory override before probing", async () => {
  let probed = false;
  const probe = fakeProbe({ readTextFile: () => (probed = true, Promise.resolve(null)) });
  await rejects(detectCapabilities({ memoryMb: -1 }, { probe }), RangeError);
  strictEqual(probed, false);
});

Deno.test("detectCapabilities reads this machine without failing", async () => {
  const caps = await detectCapabilities();
  strictEqual(typeof caps.chip, "string");
  strictEqual(caps.memory > 0, true);
});

Deno.test("applyOverrides keeps the known fp16 and int8 ratios when scaling fp32", () => {
  const detected = { model: "m", chip: "c", memory: 1, flops: { fp32: 2, fp16: 2, int8: 8 } };
  deepStrictEqual(applyOverrides(detected, { fp32Tflops: 3 }).flops, {
    fp32: 3,
    fp16: 3,
    int8: 12,
  });
  deepStrictEqual(detected.flops, { fp32: 2, fp16: 2, int8: 8 }, "the input is left alone");
});

Deno.test("applyOverrides uses 2x and 4x when no ratio is known", () => {
  const detected = { model: "m", chip: "c", memory: 1, flops: { fp32: 0, fp16: 0, int8: 0 } };
  deepStrictEqual(applyOverrides(detected, { fp32Tflops: 1.5 }).flops, {
    fp32: 1.5,
    fp16: 3,
    int8: 6,
  });
});

Deno.test("applyOverrides keeps detected flops for a chip outside the table", () => {
  const detected = { model: "m", chip: "c", memory: 1, flops: { fp32: 1, fp16: 2, int8: 4 } };
  deepStrictEqual(applyOverrides(detected, { chip: "AMD Ryzen 9" }), {
    ...detected,
    chip: "AMD Ryzen 9",
  });
});

Deno.test("applyOverrides rejects bad values", () => {
  const detected = { model: "m", chip: "c", memory: 1, flops: { fp32: 0, fp16: 0, int8: 0 } };
  throws(() => applyOverrides(detected, { memoryMb: NaN }), {
    name: "RangeError",
    message: "Cannot override memory: NaN is not a number of MB >= 0",
  });
  throws(() => applyOverrides(detected, { fp32Tflops: -2 }), RangeError);
  throws(() => applyOverrides(detected, { chip: " " }), TypeError);
});
