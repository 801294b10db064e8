/**
 * llama.cpp's own `llama-bench`, built once from the llama.cpp source that node-llama-cpp
 * ships (`llama/gitRelease.bundle` in its npm package) and cached, so bench:engine measures
 * llama.cpp as llama.cpp measures itself: node-llama-cpp's generation loop pays a per-call
 * overhead that made its 2-thread decode 2.5–3.7× slower than llama-bench on the same build.
 *
 * The build is CPU only and `-march=native` (GGML_NATIVE), so the cached binary is keyed by
 * the llama.cpp release, this build's recipe and the machine's CPU flags:
 * `<dir>/llama-bench-<release>-<os>-<arch>-<hash>/llama-bench`, with `build.json` beside it
 * (release, commit, flags, build time).
 * @module
 */
import { buildStagedDir, pathExists } from "../lib/fs/staged_dir.ts";
import { findOnPath, type NodeLlamaCpp } from "./_node_llama_cpp.ts";

/** Bumped when the build's steps change, so cached binaries are rebuilt (flags are hashed). */
const BUILD_RECIPE = 1;

/**
 * The configure flags, for this llama.cpp release (v0.4.0, where LLAMA_CURL is deprecated
 * and ignored): a release build for this CPU, one static binary to cache, no GPU backend,
 * nothing that fetches (no OpenSSL, no server) and no tests or examples. On x86-64 the
 * compiler is told not to use AMX, which `-march=native` turns on where the CPU has it:
 * ggml's AMX matmul loads an invalid tile config and crashes (SIGSEGV in
 * ggml_backend_amx_mul_mat on the first Q4_0 prompt here; llama.cpp issue 20824, fix
 * proposed in pull request 26954), so llama.cpp runs its AVX-512/VNNI kernels, as its
 * prebuilt CPU builds do.
 */
export function cmakeFlags(arch: typeof Deno.build.arch = Deno.build.arch): string[] {
  const flags = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_METAL=OFF",
    "-DGGML_CCACHE=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DLLAMA_BUILD_APP=OFF",
  ];
  if (arch === "x86_64") {
    const noAmx = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16";
    flags.push(`-DCMAKE_C_FLAGS=${noAmx}`, `-DCMAKE_CXX_FLAGS=${noAmx}`);
  }
  return flags;
}

/** The build in a few words, for the report's label. */
export function buildSummary(arch: typeof Deno.build.arch = Deno.build.arch): string {
  return `CPU only, -march=native${arch === "x86_64" ? " without AMX" : ""}, static release`;
}

/** Marks a finished build. */
const DONE_FILE = "exo-node-build-done";
/** Holds {@linkcode LlamaBenchBuild} as JSON. */
const INFO_FILE = "build.json";

/** A built llama-bench and what it was built from. */
export interface LlamaBenchBuild {
  /** The binary. */
  path: string;
  /** llama.cpp's release as node-llama-cpp names it, e.g. "v0.4.0". */
  release: string;
  /** The source's commit (the bundle's HEAD), e.g. "80fb11ac73e6...". */
  commit: string;
  /** Who shipped the source, e.g. "node-llama-cpp 3.21.1 (@node-llama-cpp/linux-x64)". */
  source: string;
  cmakeFlags: string[];
  /** The build in a few words, e.g. "CPU only, -march=native without AMX, static release". */
  summary: string;
  /** How long the build took, s. */
  buildSeconds: number;
  builtAt: string;
}

/** Why llama-bench could not be built; the message says what to install or pass instead. */
export class LlamaBenchBuildError extends Error {
  override name = "LlamaBenchBuildError";
}

/** The CPU flags in /proc/cpuinfo's first `flags` (x86) or `Features` (Arm) line, sorted. */
export function cpuFlagsOfCpuinfo(cpuinfo: string): string[] {
  const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo);
  return line ? [...new Set(line[1].trim().split(/\s+/).filter((f) => f))].sort() : [];
}

/**
 * The CPU features in `sysctl hw.optional machdep.cpu` output on macOS: the `hw.optional.*`
 * entries set to 1, the words of `machdep.cpu.*features`, and the brand string, sorted.
 */
export function cpuFlagsOfSysctl(sysctl: string): string[] {
  const flags = new Set<string>();
  for (const line of sysctl.split("\n")) {
    const [name, value = ""] = line.split(/:\s*/, 2).map((s) => s.trim());
    if (name.startsWith("hw.optional.") && value === "1") flags.add(name.slice(12));
    if (/^machdep\.cpu\.(?:leaf7_)?features$/.test(name)) {
      for (const f of value.split(/\s+/)) if (f) flags.add(f.toLowerCase());
    }
    if (name === "machdep.cpu.brand_string") flags.add(value);
  }
  return [...flags].sort();
}

/** What a llama-bench binary is built for. */
export interface Machine {
  os: typeof Deno.build.os;
  arch: typeof Deno.build.arch;
  cpuFlags: string[];
}

/** This machine: its OS, architecture and CPU flags. */
export async function thisMachine(): Promise<Machine> {
  const { os, arch } = Deno.build;
  let cpuFlags: string[] = [];
  if (os === "linux") {
    cpuFlags = cpuFlagsOfCpuinfo(await Deno.readTextFile("/proc/cpuinfo"));
  } else if (os === "darwin") {
    const out = await new Deno.Command("sysctl", {
      args: ["hw.optional", "machdep.cpu"],
      stdout: "piped",
      stderr: "null",
    }).output();
    cpuFlags = cpuFlagsOfSysctl(new TextDecoder().decode(out.stdout));
  }
  return { os, arch, cpuFlags };
}

/**
 * The cache directory name of llama-bench for `release` on `machine`:
 * `llama-bench-<release>-<os>-<arch>-<12 hex>`, the hash over the build recipe, the configure
 * flags and the CPU flags (a `-march=native` binary may not run on another CPU).
 */
export async function llamaBenchKey(release: string, machine: Machine): Promise<string> {
  const text = [
    BUILD_RECIPE,
    cmakeFlags(machine.arch).join(" "),
    [...new Set(machine.cpuFlags)].sort().join(" "),
  ].join("\n");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  const hash = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const safe = release.replace(/[^A-Za-z0-9._-]/g, "_");
  return `llama-bench-${safe}-${machine.os}-${machine.arch}-${hash}`;
}

/** The llama.cpp source inside an installed node-llama-cpp: its bundle and release tag. */
export async function llamaCppSource(
  installed: NodeLlamaCpp,
): Promise<{ bundle: string; release: string }> {
  const llamaDir = `${installed.packageDir}/node_modules/node-llama-cpp/llama`;
  const bundle = `${llamaDir}/gitRelease.bundle`;
  if (!(await pathExists(bundle))) {
    throw new LlamaBenchBuildError(
      `Cannot build llama-bench: ${installed.label} has no llama.cpp source at ${bundle}`,
    );
  }
  let release: unknown;
  try {
    release = JSON.parse(await Deno.readTextFile(`${llamaDir}/llama.cpp.info.json`)).tag;
  } catch (error) {
    throw new LlamaBenchBuildError(
      `Cannot build llama-bench: cannot read llama.cpp's release from ${llamaDir}/` +
        `llama.cpp.info.json: ${(error as Error).message}`,
    );
  }
  if (typeof release !== "string" || release === "") {
    throw new LlamaBenchBuildError(
      `Cannot build llama-bench: ${llamaDir}/llama.cpp.info.json names no release tag`,
    );
  }
  return { bundle, release };
}

/** What to install for the build, on this OS. */
export function buildToolsHint(os: typeof Deno.build.os = Deno.build.os): string {
  const tools = "CMake 3.14 or later, a C++17 compiler and git";
  if (os === "darwin") {
    return `install ${tools} (xcode-select --install; brew install cmake)`;
  }
  return `install ${tools} (Debian/Ubuntu: apt-get install cmake g++ git)`;
}

/** How bench:engine can do without the build, for error messages. */
const INSTEAD = "or pass --llama-bench PATH (a llama-bench you built) or --llama-cpp " +
  "node-llama-cpp (llama.cpp through node-llama-cpp's generation loop, a weaker anchor)";

/** Options of {@linkcode ensureLlamaBench}. */
export interface EnsureLlamaBenchOptions {
  /** Gets a line when a build starts, as it progresses and when it ends. */
  log?: (line: string) => void;
  /** The machine to key the cache by; this one by default. */
  machine?: Machine;
  /** Finds a build tool (git, cmake); PATH by default. */
  findTool?: (name: string) => Promise<string | null>;
}

/**
 * llama-bench for this machine from `installed`'s llama.cpp source: the cached binary under
 * `dir` when there is one, else built now (git clone of the bundle, cmake configure, build of
 * the llama-bench target on every core: ~15 min on 2 cores) into a staging directory renamed
 * into place when complete, with the build's output in `<dir>/<key>.build.log`.
 * @throws {LlamaBenchBuildError} when a tool is missing or a step fails: the message names
 * the step, the end of its output, the full log's path and what to install.
 */
export async function ensureLlamaBench(
  installed: NodeLlamaCpp,
  dir: string,
  options: EnsureLlamaBenchOptions = {},
): Promise<LlamaBenchBuild> {
  const { log = () => {}, findTool = findOnPath } = options;
  const { bundle, release } = await llamaCppSource(installed);
  const machine = options.machine ?? await thisMachine();
  const key = await llamaBenchKey(release, machine);
  const flags = cmakeFlags(machine.arch);
  const binDir = `${dir}/${key}`;
  const cached = await readBuild(binDir);
  if (cached) return cached;

  if (Deno.build.os === "windows") {
    throw new LlamaBenchBuildError(`Cannot build llama-bench on Windows here; ${INSTEAD}`);
  }
  const tools: Record<string, string> = {};
  for (const tool of ["git", "cmake"]) {
    const path = await findTool(tool);
    if (path === null) {
      throw new LlamaBenchBuildError(
        `Cannot build llama-bench: ${tool} is not on PATH; ${buildToolsHint()}, ${INSTEAD}`,
      );
    }
    tools[tool] = path;
  }
  const logFile = `${dir}/${key}.build.log`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(logFile, "");
  const started = performance.now();
  log(
    `building llama-bench from llama.cpp ${release} (${installed.label}'s source) once for this ` +
      `machine: about 15 min on 2 cores; log ${logFile}`,
  );
  let build: LlamaBenchBuild | undefined;
  await buildStagedDir(binDir, DONE_FILE, "", async (staging) => {
    const src = `${staging}/llama.cpp`;
    const step = (what: string, command: string, args: string[], progress = false) =>
      runLogged(what, command, args, logFile, progress ? log : undefined);
    await step("clone", tools.git, ["clone", "--quiet", bundle, src]);
    const commit = (await step("read commit", tools.git, ["-C", src, "rev-parse", "HEAD"])).trim();
    await step("configure", tools.cmake, ["-S", src, "-B", `${src}/build`, ...flags]);
    await step("build", tools.cmake, [
      "--build",
      `${src}/build`,
      "--target",
      "llama-bench",
      "-j",
      String(navigator.hardwareConcurrency),
    ], true);
    await Deno.copyFile(`${src}/build/bin/llama-bench`, `${staging}/llama-bench`);
    await Deno.chmod(`${staging}/llama-bench`, 0o755);
    await step("run", `${staging}/llama-bench`, ["--help"]);
    await Deno.remove(src, { recursive: true });
    build = {
      path: `${binDir}/llama-bench`,
      release,
      commit,
      source: installed.label,
      cmakeFlags: flags,
      summary: buildSummary(machine.arch),
      buildSeconds: Math.round((performance.now() - started) / 1000),
      builtAt: new Date().toISOString(),
    };
    await Deno.writeTextFile(`${staging}/${INFO_FILE}`, JSON.stringify(build, null, 2));
  });
  // Another process may have finished first: its build is the one in place.
  const done = await readBuild(binDir);
  if (!done) throw new LlamaBenchBuildError(`Cannot build llama-bench: ${binDir} is incomplete`);
  if (build) log(`built llama-bench in ${build.buildSeconds} s: ${done.path}`);
  return done;
}

/** The finished build in `binDir`, or null when there is none. */
async function readBuild(binDir: string): Promise<LlamaBenchBuild | null> {
  if (!(await pathExists(`${binDir}/${DONE_FILE}`))) return null;
  const build = JSON.parse(await Deno.readTextFile(`${binDir}/${INFO_FILE}`));
  return { ...build, path: `${binDir}/llama-bench` } as LlamaBenchBuild;
}

/**
 * Runs one build step with its output appended to `logFile`; with `progress`, reports the
 * build's "[ 40%]" lines at each further tenth. Returns stdout.
 * @throws {LlamaBenchBuildError} when it fails, with the end of its output.
 */
async function runLogged(
  what: string,
  command: string,
  args: string[],
  logFile: string,
  progress?: (line: string) => void,
): Promise<string> {
  const file = await Deno.open(logFile, { append: true });
  const encoder = new TextEncoder();
  try {
    await file.write(encoder.encode(`\n$ ${command} ${args.join(" ")}\n`));
    const child = new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).spawn();
    let stdout = "";
    let reported = 0;
    const tail: string[] = [];
    const pump = async (stream: ReadableStream<Uint8Array>, keep: boolean) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        await file.write(encoder.encode(text));
        if (keep) stdout += text;
        for (const line of text.split("\n")) {
          if (line.trim()) tail.push(line);
          if (tail.length > 20) tail.shift();
          const percent = /^\[\s*(\d+)%\]/.exec(line);
          if (progress && percent && Number(percent[1]) >= reported + 10) {
            reported = Number(percent[1]) - Number(percent[1]) % 10;
            progress(`llama-bench build: ${percent[1]}%`);
          }
        }
      }
    };
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, true),
      pump(child.stderr, false),
    ]);
    if (!status.success) {
      throw new LlamaBenchBuildError(
        `Cannot build llama-bench: ${what} failed (exit ${status.code}); last lines:\n` +
          `${tail.join("\n")}\nFull log: ${logFile}. If a tool is missing, ${buildToolsHint()}; ` +
          INSTEAD,
      );
    }
    return stdout;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new LlamaBenchBuildError(
        `Cannot build llama-bench: ${what}: ${command} not found; ${buildToolsHint()}, ${INSTEAD}`,
      );
    }
    throw error;
  } finally {
    file.close();
  }
}
