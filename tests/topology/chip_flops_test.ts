import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { CHIP_FLOPS, lookupChipFlops, matchChipName } from "../../lib/topology/chip_flops.ts";

Deno.test("matchChipName prefers the longest chip name", () => {
  strictEqual(matchChipName("Apple M2 Max"), "Apple M2 Max");
  strictEqual(matchChipName("Apple M2"), "Apple M2");
  strictEqual(matchChipName("Apple M1 Ultra"), "Apple M1 Ultra");
  strictEqual(matchChipName("Apple M4 Pro"), "Apple M4 Pro");
});

Deno.test("matchChipName ignores case, extra spaces and a trailing qualifier", () => {
  strictEqual(matchChipName("  apple   m3  PRO "), "Apple M3 Pro");
  strictEqual(matchChipName("Apple M1 (Virtual)"), "Apple M1");
});

Deno.test("matchChipName does not read a longer model number as a shorter one", () => {
  strictEqual(matchChipName("Apple M10"), undefined);
  strictEqual(matchChipName("Apple M2Max"), undefined);
  strictEqual(matchChipName("Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz"), undefined);
  strictEqual(matchChipName(""), undefined);
});

Deno.test("lookupChipFlops returns a copy of the table entry", () => {
  const flops = lookupChipFlops("Apple M2 Max");
  deepStrictEqual(flops, { fp32: 13.49, fp16: 26.98, int8: 53.96 });
  flops!.fp32 = 0;
  strictEqual(CHIP_FLOPS["Apple M2 Max"].fp32, 13.49);
  strictEqual(lookupChipFlops("Unknown Chip"), undefined);
});

Deno.test("CHIP_FLOPS covers M1 to M4 with fp16 twice and int8 four times fp32", () => {
  for (const generation of ["M1", "M2", "M3", "M4"]) {
    for (const variant of ["", " Pro", " Max"]) {
      strictEqual(`Apple ${generation}${variant}` in CHIP_FLOPS, true, generation + variant);
    }
  }
  for (const [name, { fp32, fp16, int8 }] of Object.entries(CHIP_FLOPS)) {
    strictEqual(fp32 > 0, true, name);
    strictEqual(Math.abs(fp16 - 2 * fp32) < 0.01, true, name);
    strictEqual(Math.abs(int8 - 4 * fp32) < 0.01, true, name);
  }
});

Deno.test("CHIP_FLOPS ranks Pro below Max below Ultra within a generation", () => {
  for (const generation of ["M1", "M2", "M3"]) {
    const [pro, max, ultra] = [" Pro", " Max", " Ultra"]
      .map((variant) => CHIP_FLOPS[`Apple ${generation}${variant}`].fp32);
    strictEqual(pro < max && max < ultra, true, generation);
  }
});
