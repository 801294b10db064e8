import assert from "node:assert/strict";
import { detectPerformanceCores } from "../../lib/topology/performance_cores.ts";
import type { SystemProbe } from "../../lib/topology/detect_capabilities.ts";

function probe(os: string, answers: Record<string, string | null>): SystemProbe {
  return {
    os,
    run: (command, args) => Promise.resolve(answers[[command, ...args].join(" ")] ?? null),
    readTextFile: (path) => Promise.resolve(answers[path] ?? null),
    totalMemoryBytes: () => null,
  };
}

const CPUINFO_4_CORES_8_THREADS = Array.from(
  { length: 8 },
  (_, i) => `processor\t: ${i}\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t\t: ${i % 4}\n`,
).join(
  "\n",
);

Deno.test("detectPerformanceCores counts an Apple Silicon Mac's performance cores only", async () => {
  assert.deepEqual(
    await detectPerformanceCores(probe("darwin", {
      "sysctl -n hw.perflevel0.physicalcpu": "8",
      "sysctl -n hw.physicalcpu": "12",
    })),
    { cores: 8, source: "sysctl hw.perflevel0.physicalcpu" },
  );
});

Deno.test("detectPerformanceCores takes an Intel Mac's physical cores", async () => {
  assert.deepEqual(
    await detectPerformanceCores(probe("darwin", { "sysctl -n hw.physicalcpu": "6" })),
    { cores: 6, source: "sysctl hw.physicalcpu" },
  );
});

Deno.test("detectPerformanceCores counts Linux's physical cores, not hyperthreads", async () => {
  assert.deepEqual(
    await detectPerformanceCores(probe("linux", { "/proc/cpuinfo": CPUINFO_4_CORES_8_THREADS })),
    { cores: 4, source: "physical cores in /proc/cpuinfo" },
  );
});

Deno.test("detectPerformanceCores falls back to the logical processors on a failed probe", async () => {
  for (
    const failed of [
      probe("darwin", { "sysctl -n hw.perflevel0.physicalcpu": "x" }),
      probe("linux", {}),
      probe("windows", {}),
    ]
  ) {
    const { cores, source } = await detectPerformanceCores(failed);
    assert.equal(source, "logical processors");
    assert.equal(cores, Math.max(1, navigator.hardwareConcurrency));
  }
});
