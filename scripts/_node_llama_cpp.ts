/**
 * llama.cpp from npm: installs node-llama-cpp (pinned) with only this platform's prebuilt
 * binary into a cache directory on first use, and runs `scripts/llama_cpp_driver.mjs`
 * under Node.js against a GGUF file. Only the npm registry is needed: the install skips
 * node-llama-cpp's postinstall (which would look for a build) and its optional GPU
 * packages (CUDA and Vulkan builds, ~350 MB), and the driver never builds or downloads.
 *
 * @module
 */
import { buildStagedDir, pathExists } from "../lib/fs/staged_dir.ts";

/** The node-llama-cpp release used: the newest with a prebuilt binary for every platform. */
export const NODE_LLAMA_CPP_VERSION = "3.21.1";

/**
 * Dependencies resolve as they were on the day after that release, so every install gets
 * the same tree without a lockfile per platform.
 */
const RESOLVE_BEFORE = "2026-09-14";

/** Marks a finished install. */
const DONE_FILE = "exo-node-install.json";

const DRIVER = new URL("./llama_cpp_driver.mjs", import.meta.url).pathname;

/** Where llama.cpp runs: its CPU build, or Metal on Apple Silicon. */
export type LlamaCppDevice = "cpu" | "metal";

/** node-llama-cpp's prebuilt package for this platform and the device it runs on. */
export function prebuiltPackage(
  os: typeof Deno.build.os = Deno.build.os,
  arch: typeof Deno.build.arch = Deno.build.arch,
): { name: string; device: LlamaCppDevice } | null {
  if (os === "linux") {
    return { name: `@node-llama-cpp/linux-${arch === "x86_64" ? "x64" : "arm64"}`, device: "cpu" };
  }
  if (os === "darwin" && arch === "aarch64") {
    return { name: "@node-llama-cpp/mac-arm64-metal", device: "metal" };
  }
  if (os === "darwin") return { name: "@node-llama-cpp/mac-x64", device: "cpu" };
  if (os === "windows" && arch === "x86_64") {
    return { name: "@node-llama-cpp/win-x64", device: "cpu" };
  }
  return null;
}

/** An installed node-llama-cpp, ready for {@linkcode runLlamaCppDriver}. */
export interface NodeLlamaCpp {
  packageDir: string;
  device: LlamaCppDevice;
  /** e.g. "node-llama-cpp 3.21.1 (@node-llama-cpp/linux-x64)". */
  label: string;
}

/** Why llama.cpp cannot run here; the benchmark falls back to its fixed figures. */
export class LlamaCppUnavailableError extends Error {
  override name = "LlamaCppUnavailableError";
}

/** The default install location: `$XDG_CACHE_HOME` or `~/.cache`, under exo-node/. */
export function defaultLlamaCppDir(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${cache}/exo-node/llama-cpp`;
}

/**
 * Installs node-llama-cpp and this platform's prebuilt package under `dir` (once; later
 * calls reuse it) with npm, into a temporary directory renamed into place when complete.
 * @throws {LlamaCppUnavailableError} when there is no prebuilt binary for this platform, or
 * npm or Node.js is missing or fails.
 */
export async function installNodeLlamaCpp(dir = defaultLlamaCppDir()): Promise<NodeLlamaCpp> {
  const prebuilt = prebuiltPackage();
  if (prebuilt === null) {
    throw new LlamaCppUnavailableError(
      `node-llama-cpp has no prebuilt binary for ${Deno.build.os}/${Deno.build.arch}`,
    );
  }
  const packageDir = `${dir}/node-llama-cpp-${NODE_LLAMA_CPP_VERSION}-${
    prebuilt.name.split("/")[1]
  }`;
  const installed = {
    packageDir,
    device: prebuilt.device,
    label: `node-llama-cpp ${NODE_LLAMA_CPP_VERSION} (${prebuilt.name})`,
  };
  if (await pathExists(`${packageDir}/${DONE_FILE}`)) return installed;

  const dependencies = {
    "node-llama-cpp": NODE_LLAMA_CPP_VERSION,
    [prebuilt.name]: NODE_LLAMA_CPP_VERSION,
  };
  // Another process that finishes the same install first leaves its copy, used as is.
  await buildStagedDir(packageDir, DONE_FILE, JSON.stringify(dependencies), async (partial) => {
    await Deno.writeTextFile(
      `${partial}/package.json`,
      JSON.stringify({ name: "exo-node-llama-cpp", private: true, dependencies }, null, 2),
    );
    const npm = await run("npm", [
      "install",
      "--omit=optional",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      `--before=${RESOLVE_BEFORE}`,
    ], partial);
    if (!npm.ok) {
      throw new LlamaCppUnavailableError(`npm install node-llama-cpp failed: ${npm.output}`);
    }
  });
  return installed;
}

/** A request to the driver; see scripts/llama_cpp_driver.mjs. */
export interface DriverRequest {
  model: string;
  threads: number;
  verify?: { tokens: number[]; from: number; top: number };
  bench?: { promptTokens: number[]; decodeTokens: number; firstToken: number };
}

/** The driver's answer. */
export interface DriverResult {
  loadMs: number;
  llamaCpp: { release: string; buildType: string; gpu: string | false };
  /** Per position from `verify.from`: [token id, log-probability] best first. */
  verify?: [number, number][][];
  bench?: {
    prefillTokensPerSecond: number;
    decodeTokensPerSecond: number;
    afterPromptDecodeTokensPerSecond: number;
  };
}

/**
 * Runs the driver once under Node.js (a fresh process, so nothing idles between runs).
 * @throws {LlamaCppUnavailableError} when Node.js is missing; {@linkcode Error} when the
 * driver fails, with the end of its output.
 */
export async function runLlamaCppDriver(
  installed: NodeLlamaCpp,
  request: DriverRequest,
): Promise<DriverResult> {
  const payload = JSON.stringify({
    ...request,
    packageDir: installed.packageDir,
    gpu: installed.device,
  });
  const result = await run("node", [DRIVER, payload]);
  if (!result.ok) throw new Error(`llama.cpp driver failed: ${result.output}`);
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as DriverResult;
  } catch {
    throw new Error(`llama.cpp driver printed no result: ${result.output}`);
  }
}

interface RunOutput {
  ok: boolean;
  stdout: string;
  /** The last lines of stdout and stderr, for an error message. */
  output: string;
}

/**
 * The executable `name` on PATH, or null, skipping the `node_compat_bin` directory Deno puts
 * first on its own PATH: its `node` is Deno itself in Node.js compatibility mode, not Node.js.
 */
export async function findOnPath(name: string): Promise<string | null> {
  const separator = Deno.build.os === "windows" ? ";" : ":";
  const suffixes = Deno.build.os === "windows" ? [".exe", ".cmd"] : [""];
  for (const dir of (Deno.env.get("PATH") ?? "").split(separator)) {
    if (dir.endsWith("node_compat_bin")) continue;
    for (const suffix of suffixes) {
      const path = `${dir}/${name}${suffix}`;
      try {
        if ((await Deno.stat(path)).isFile) return path;
      } catch {
        // Not in this directory.
      }
    }
  }
  return null;
}

async function onPath(name: string): Promise<string> {
  const path = await findOnPath(name);
  if (path === null) {
    throw new LlamaCppUnavailableError(`${name} is not on PATH (Node.js and npm are needed)`);
  }
  return path;
}

async function run(command: string, args: string[], cwd?: string): Promise<RunOutput> {
  const child = await new Deno.Command(await onPath(command), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(child.stdout);
  const both = `${stdout}\n${decoder.decode(child.stderr)}`.trim().split("\n");
  return { ok: child.success, stdout, output: both.slice(-15).join("\n") };
}
