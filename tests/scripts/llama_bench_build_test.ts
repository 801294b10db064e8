/**
 * The llama-bench build's logic without the 15-minute build: CPU flags, the cache key, and
 * ensureLlamaBench's steps, cache reuse and failures with stand-in git and cmake scripts (the
 * real build is exercised by `bench:engine --vs-llama-cpp`).
 */
import assert from "node:assert/strict";
import {
  cmakeFlags,
  cpuFlagsOfCpuinfo,
  cpuFlagsOfSysctl,
  ensureLlamaBench,
  LlamaBenchBuildError,
  llamaBenchKey,
  type Machine,
} from "../../scripts/_llama_bench_build.ts";
import type { NodeLlamaCpp } from "../../scripts/_node_llama_cpp.ts";

const CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
flags\t\t: fpu vme sse2 avx2 avx fma
bogomips\t: 4400.00

processor\t: 1
flags\t\t: fpu vme sse2 avx2 avx fma avx512f
`;

Deno.test("cpuFlagsOfCpuinfo reads the first flags line (x86) or Features line (Arm), sorted", () => {
  assert.deepEqual(cpuFlagsOfCpuinfo(CPUINFO), ["avx", "avx2", "fma", "fpu", "sse2", "vme"]);
  assert.deepEqual(
    cpuFlagsOfCpuinfo("processor\t: 0\nFeatures\t: fp asimd asimddp sve\nCPU part\t: 0xd0c\n"),
    ["asimd", "asimddp", "fp", "sve"],
  );
  assert.deepEqual(cpuFlagsOfCpuinfo("processor\t: 0\n"), []);
});

Deno.test("cpuFlagsOfSysctl keeps the hw.optional features set to 1, the feature words and the brand", () => {
  const sysctl = [
    "hw.optional.arm.FEAT_DotProd: 1",
    "hw.optional.arm.FEAT_SME: 0",
    "hw.optional.neon: 1",
    "machdep.cpu.brand_string: Apple M2",
    "machdep.cpu.features: FPU SSE2 AVX1.0",
    "machdep.cpu.leaf7_features: AVX2 BMI1",
    "machdep.cpu.core_count: 8",
  ].join("\n");
  assert.deepEqual(cpuFlagsOfSysctl(sysctl), [
    "Apple M2",
    "arm.FEAT_DotProd",
    "avx1.0",
    "avx2",
    "bmi1",
    "fpu",
    "neon",
    "sse2",
  ]);
});

Deno.test("cmakeFlags builds CPU only for this CPU, without AMX on x86-64 (ggml's AMX path crashes)", () => {
  const x86 = cmakeFlags("x86_64");
  assert.ok(x86.includes("-DGGML_NATIVE=ON") && x86.includes("-DGGML_METAL=OFF"));
  assert.ok(x86.includes("-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"));
  // Arm compilers do not know x86 flags.
  assert.deepEqual(cmakeFlags("aarch64").filter((f) => /amx|CMAKE_C/.test(f)), []);
});

const MACHINE: Machine = { os: "linux", arch: "x86_64", cpuFlags: ["avx2", "fma", "sse2"] };

Deno.test("llamaBenchKey names the release and machine, and changes with the release or the CPU flags", async () => {
  const key = await llamaBenchKey("v0.4.0", MACHINE);
  assert.match(key, /^llama-bench-v0\.4\.0-linux-x86_64-[0-9a-f]{12}$/);
  // The flags' order and repeats do not matter: the same CPU gets the same binary.
  assert.equal(
    await llamaBenchKey("v0.4.0", { ...MACHINE, cpuFlags: ["sse2", "fma", "avx2", "fma"] }),
    key,
  );
  // Another release is another name (the release is in it, outside the hash).
  assert.equal(await llamaBenchKey("v0.4.1", MACHINE), key.replace("v0.4.0", "v0.4.1"));
  assert.notEqual(
    await llamaBenchKey("v0.4.0", { ...MACHINE, cpuFlags: ["avx2", "avx512f", "fma", "sse2"] }),
    key,
  );
  assert.match(await llamaBenchKey("b1/../x", MACHINE), /^llama-bench-b1_.._x-linux-/);
});

/**
 * A node-llama-cpp package with llama.cpp's source files (a stand-in bundle) in `dir`, and
 * stand-in git and cmake that do what a build does in milliseconds, counting their runs in
 * `calls`; `configureFails` makes cmake's configure fail as it does without a compiler.
 */
async function fakeBuild(dir: string, configureFails = false) {
  const llamaDir = `${dir}/pkg/node_modules/node-llama-cpp/llama`;
  await Deno.mkdir(llamaDir, { recursive: true });
  await Deno.writeTextFile(`${llamaDir}/gitRelease.bundle`, "not a real bundle");
  await Deno.writeTextFile(`${llamaDir}/llama.cpp.info.json`, JSON.stringify({ tag: "v0.4.0" }));
  const calls = `${dir}/calls`;
  await Deno.writeTextFile(calls, "");
  const git = `${dir}/git`;
  await Deno.writeTextFile(
    git,
    `#!/bin/sh
echo "git $*" >> ${calls}
case "$1" in
  clone) mkdir -p "$4" ;;
  -C) echo 80fb11ac73e66d89eae2c6a91d8a77428fa733ed ;;
esac
`,
  );
  const cmake = `${dir}/cmake`;
  await Deno.writeTextFile(
    cmake,
    `#!/bin/sh
echo "cmake $*" >> ${calls}
if [ "$1" = "--build" ]; then
  mkdir -p "$2/bin"
  echo "[ 50%] Building CXX object ggml.o"
  echo "[100%] Linking CXX executable bin/llama-bench"
  printf '#!/bin/sh\\necho "usage: llama-bench [options]"\\n' > "$2/bin/llama-bench"
  chmod +x "$2/bin/llama-bench"
elif ${configureFails ? "true" : "false"}; then
  echo "CMake Error at CMakeLists.txt:2 (project):" >&2
  echo "  No CMAKE_CXX_COMPILER could be found." >&2
  exit 1
fi
`,
  );
  await Deno.chmod(git, 0o755);
  await Deno.chmod(cmake, 0o755);
  const installed: NodeLlamaCpp = {
    packageDir: `${dir}/pkg`,
    device: "cpu",
    label: "node-llama-cpp 3.21.1 (@node-llama-cpp/linux-x64)",
  };
  const tools: Record<string, string> = { git, cmake };
  const findTool = (name: string) => Promise.resolve(tools[name] ?? null);
  const callCount = async () =>
    (await Deno.readTextFile(calls)).split("\n").filter((l) => l).length;
  return { installed, findTool, calls, callCount };
}

Deno.test({
  name: "ensureLlamaBench builds once with the configure flags, then reuses the cached binary",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { installed, findTool, calls, callCount } = await fakeBuild(dir);
      const cache = `${dir}/cache`;
      const lines: string[] = [];
      const build = await ensureLlamaBench(installed, cache, {
        log: (line) => lines.push(line),
        machine: MACHINE,
        findTool,
      });
      const key = await llamaBenchKey("v0.4.0", MACHINE);
      assert.equal(build.path, `${cache}/${key}/llama-bench`);
      assert.equal(build.release, "v0.4.0");
      assert.equal(build.commit, "80fb11ac73e66d89eae2c6a91d8a77428fa733ed");
      assert.deepEqual(build.cmakeFlags, cmakeFlags("x86_64"));
      assert.equal(build.summary, "CPU only, -march=native without AMX, static release");
      assert.ok((await Deno.stat(build.path)).isFile);
      // The source tree is not kept beside the binary.
      assert.deepEqual(
        [...Deno.readDirSync(`${cache}/${key}`)].map((e) => e.name).sort(),
        ["build.json", "exo-node-build-done", "llama-bench"],
      );
      const log = await Deno.readTextFile(calls);
      assert.match(log, /cmake -S \S+ -B \S+ -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON/);
      assert.match(log, /-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16/);
      assert.match(log, /cmake --build \S+ --target llama-bench -j \d+/);
      assert.match(lines[0], /building llama-bench from llama\.cpp v0\.4\.0 .*once/);
      assert.ok(lines.includes("llama-bench build: 50%"));
      assert.match(lines.at(-1)!, /^built llama-bench in \d+ s: /);

      const runs = await callCount();
      const again = await ensureLlamaBench(installed, cache, { machine: MACHINE, findTool });
      assert.deepEqual(again, build);
      assert.equal(await callCount(), runs, "the cached binary is used without building");
      // Another CPU gets its own build.
      const other = { ...MACHINE, cpuFlags: [...MACHINE.cpuFlags, "avx512f"] };
      const rebuilt = await ensureLlamaBench(installed, cache, { machine: other, findTool });
      assert.notEqual(rebuilt.path, build.path);
      assert.ok(await callCount() > runs);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ensureLlamaBench says which step failed, its last lines, the log and what to install",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { installed, findTool } = await fakeBuild(dir, true);
      const cache = `${dir}/cache`;
      const error = await ensureLlamaBench(installed, cache, { machine: MACHINE, findTool })
        .then(() => null, (e) => e);
      assert.ok(error instanceof LlamaBenchBuildError);
      assert.match(error.message, /^Cannot build llama-bench: configure failed \(exit 1\)/);
      assert.match(error.message, /No CMAKE_CXX_COMPILER could be found/);
      assert.match(error.message, /Full log: \S+\.build\.log/);
      assert.match(error.message, /apt-get install cmake g\+\+ git/);
      assert.match(error.message, /--llama-cpp node-llama-cpp/);
      // Nothing half-built is left to be trusted by the next run.
      const key = await llamaBenchKey("v0.4.0", MACHINE);
      assert.deepEqual(
        [...Deno.readDirSync(cache)].map((e) => e.name),
        [`${key}.build.log`],
      );

      await assert.rejects(
        ensureLlamaBench(installed, cache, {
          machine: MACHINE,
          findTool: (name) => name === "cmake" ? Promise.resolve(null) : findTool(name),
        }),
        /Cannot build llama-bench: cmake is not on PATH; install CMake 3\.14 or later/,
      );
      await Deno.remove(`${dir}/pkg/node_modules/node-llama-cpp/llama/gitRelease.bundle`);
      await assert.rejects(
        ensureLlamaBench(installed, cache, { machine: MACHINE, findTool }),
        /node-llama-cpp 3\.21\.1 \(@node-llama-cpp\/linux-x64\) has no llama\.cpp source at /,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
