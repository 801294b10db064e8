import type { DeviceFlops } from "./device_capabilities.ts";

/**
 * GPU throughput of Apple silicon in TFLOPS, keyed by the name macOS reports in
 * `machdep.cpu.brand_string`.
 *
 * fp32 is the public figure for the largest GPU configuration of each chip (cores × 128
 * ALUs × 2 × clock), the same figures exo uses; fp16 and int8 follow exo's 2× and 4×
 * convention. They only rank machines against each other, so binned variants with fewer
 * GPU cores share their chip's entry. M3 Ultra is two M3 Max dies, so it is listed at twice
 * the M3 Max rather than exo's 54.26, which matches no shipping configuration.
 */
export const CHIP_FLOPS: Readonly<Record<string, DeviceFlops>> = {
  "Apple M1": flops(2.29),
  "Apple M1 Pro": flops(5.3),
  "Apple M1 Max": flops(10.6),
  "Apple M1 Ultra": flops(21.2),
  "Apple M2": flops(3.55),
  "Apple M2 Pro": flops(5.68),
  "Apple M2 Max": flops(13.49),
  "Apple M2 Ultra": flops(26.98),
  "Apple M3": flops(3.55),
  "Apple M3 Pro": flops(4.97),
  "Apple M3 Max": flops(14.2),
  "Apple M3 Ultra": flops(28.4),
  "Apple M4": flops(4.26),
  "Apple M4 Pro": flops(5.72),
  "Apple M4 Max": flops(18.03),
};

function flops(fp32: number): DeviceFlops {
  return { fp32, fp16: round2(fp32 * 2), int8: round2(fp32 * 4) };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Finds the table name of the chip in a CPU brand string such as "Apple M2 Max" or
 * "Apple M3 Pro (Virtual)", or undefined for a chip not in {@linkcode CHIP_FLOPS}.
 *
 * The longest name that matches at a word boundary wins, so "Apple M2 Max" is never
 * read as "Apple M2". Case and repeated spaces are ignored.
 */
export function matchChipName(brand: string): string | undefined {
  const normalized = normalize(brand);
  let best: string | undefined;
  for (const name of Object.keys(CHIP_FLOPS)) {
    const key = normalize(name);
    const matches = normalized === key || normalized.startsWith(key + " ");
    if (matches && (best === undefined || key.length > normalize(best).length)) best = name;
  }
  return best;
}

/** Looks up the throughput of the chip named in `brand`; undefined for an unknown chip. */
export function lookupChipFlops(brand: string): DeviceFlops | undefined {
  const name = matchChipName(brand);
  return name === undefined ? undefined : { ...CHIP_FLOPS[name] };
}

function normalize(text: string): string {
  return text.trim().replace(/\s+/g, " ").toLowerCase();
}
