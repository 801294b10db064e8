/**
 * llama.cpp as bench:engine runs it in the same run as ours: the checkpoint written as GGUF
 * (cached beside the checkpoint, named after its spec, so a changed spec gets a new file),
 * and one measuring round at a time. The anchor is llama.cpp's own `llama-bench` (built
 * once from node-llama-cpp's copy of llama.cpp's source, scripts/_llama_bench_build.ts, or
 * a binary given with `--llama-bench PATH`); `--llama-cpp node-llama-cpp` runs llama.cpp
 * through node-llama-cpp's generation loop instead, a weaker anchor labelled as such.
 *
 * @module
 */

import type { GgmlType } from "../tests/fixtures/ggml_quants.ts";
import { writeCheckpointGguf } from "../tests/fixtures/checkpoint_gguf.ts";
import {
  ensureLlamaBench,
  type LlamaBenchBuild,
  LlamaBenchBuildError,
} from "./_llama_bench_build.ts";
import {
  installNodeLlamaCpp,
  type LlamaCppDevice,
  LlamaCppUnavailableError,
  type NodeLlamaCpp,
  runLlamaCppDriver,
} from "./_node_llama_cpp.ts";

/** Bumped when the GGUF conversion changes, so cached files are written again. */
const CONVERSION_VERSION = 1;

/** How llama.cpp is run. */
export type LlamaCppRunner = "llama-bench" | "node-llama-cpp";

/** The runners `--llama-cpp` accepts, the default first. */
export const LLAMA_CPP_RUNNERS: readonly LlamaCppRunner[] = ["llama-bench", "node-llama-cpp"];

/** What the flags ask for: no llama.cpp, llama-bench (a given binary or built), node-llama-cpp. */
export type LlamaCppChoice =
  | { runner: "none" }
  | { runner: "llama-bench"; path?: string }
  | { runner: "node-llama-cpp" };

/**
 * Reads `--vs-llama-cpp`, `--llama-cpp RUNNER` and `--llama-bench PATH`: either of the last
 * two implies the first; llama-bench is the default runner.
 * @throws {RangeError} for an unknown runner, or `--llama-bench` with node-llama-cpp.
 */
export function llamaCppChoice(flags: {
  vsLlamaCpp: boolean;
  llamaCpp?: string;
  llamaBench?: string;
}): LlamaCppChoice {
  const { vsLlamaCpp, llamaCpp, llamaBench } = flags;
  if (llamaCpp !== undefined && !LLAMA_CPP_RUNNERS.includes(llamaCpp as LlamaCppRunner)) {
    throw new RangeError(
      `Cannot benchmark: unknown --llama-cpp "${llamaCpp}", use ${LLAMA_CPP_RUNNERS.join(" or ")}`,
    );
  }
  if (llamaBench !== undefined) {
    if (llamaCpp === "node-llama-cpp") {
      throw new RangeError(
        "Cannot benchmark: --llama-bench PATH runs llama-bench, not --llama-cpp node-llama-cpp",
      );
    }
    return { runner: "llama-bench", path: llamaBench };
  }
  if (llamaCpp === "node-llama-cpp") return { runner: "node-llama-cpp" };
  return vsLlamaCpp || llamaCpp !== undefined ? { runner: "llama-bench" } : { runner: "none" };
}

/** One round of llama.cpp's figures. */
export interface LlamaCppRound {
  /** Prompt processing, tokens/s (llama-bench's pp). */
  prefillTokensPerSecond: number;
  /** Decoding from an empty context, tokens/s (llama-bench's tg). */
  decodeTokensPerSecond: number;
  /** Decoding after the prompt, tokens/s (llama-bench's tg at a depth of the prompt). */
  afterPromptDecodeTokensPerSecond?: number;
}

/** What a round runs. */
export interface LlamaCppRoundRequest {
  gguf: string;
  threads: number;
  promptTokens: number[];
  decodeTokens: number;
  firstToken: number;
}

/** A way to run llama.cpp. */
export interface LlamaCppSide {
  runner: LlamaCppRunner;
  /** What runs, with llama.cpp's release or commit; fuller after a round. */
  label(): string;
  round(request: LlamaCppRoundRequest): Promise<LlamaCppRound>;
}

/** Why the node-llama-cpp runner is not the default: how much its loop costs. */
export const NODE_LLAMA_CPP_CAVEAT = "FALLBACK, not llama.cpp's best: node-llama-cpp's " +
  "generation loop pays a per-call overhead (its 2-thread decode was 2.5-3.7x slower than " +
  "llama-bench on the same build), so ratios to it flatter ours";

/** The label of llama.cpp run through node-llama-cpp. */
export function nodeLlamaCppLabel(installed: NodeLlamaCpp, release: string): string {
  return `${NODE_LLAMA_CPP_CAVEAT}; llama.cpp ${release || "(release not yet known)"} via ` +
    `${installed.label}, ${installed.device}; decode is greedy generation (sampling included)`;
}

/** llama.cpp through node-llama-cpp, one fresh Node.js process a round. */
export function nodeLlamaCppSide(installed: NodeLlamaCpp): LlamaCppSide {
  let release = "";
  return {
    runner: "node-llama-cpp",
    label: () => nodeLlamaCppLabel(installed, release),
    async round(request) {
      const result = await runLlamaCppDriver(installed, {
        model: request.gguf,
        threads: request.threads,
        bench: {
          promptTokens: request.promptTokens,
          decodeTokens: request.decodeTokens,
          firstToken: request.firstToken,
        },
      });
      release = result.llamaCpp.release;
      if (!result.bench) throw new Error("llama.cpp driver returned no figures");
      return result.bench;
    },
  };
}

/** One test of llama-bench's `-o json` output (the fields used here). */
interface LlamaBenchTest {
  build_commit?: string;
  backends?: string;
  n_threads?: number;
  n_prompt: number;
  n_gen: number;
  n_depth?: number;
  avg_ts: number;
}

/** What one llama-bench run reports beyond the round's figures. */
export interface LlamaBenchRun extends LlamaCppRound {
  /** Its build commit, e.g. "80fb11a". */
  build: string;
  /** Its backends, e.g. "CPU". */
  backends: string;
  threads: number | null;
}

/**
 * Reads llama-bench's `-o json` output: the pp and tg tests at depth 0 and, when
 * `afterPrompt` is given, the tg test at that depth (decoding after that many tokens).
 * @throws {SyntaxError} when the output is not that JSON or lacks a test.
 */
export function parseLlamaBenchJson(text: string, afterPrompt?: number): LlamaBenchRun {
  let tests: LlamaBenchTest[];
  try {
    tests = JSON.parse(text);
  } catch {
    throw new SyntaxError(`Cannot read llama-bench output: not JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(tests)) throw new SyntaxError("Cannot read llama-bench output: not a list");
  const test = (prompt: boolean, depth: number) =>
    tests.find((t) =>
      (prompt ? t.n_prompt > 0 && t.n_gen === 0 : t.n_gen > 0 && t.n_prompt === 0) &&
      (t.n_depth ?? 0) === depth && typeof t.avg_ts === "number"
    );
  const pp = test(true, 0);
  const tg = test(false, 0);
  if (!pp || !tg) {
    throw new SyntaxError("Cannot read llama-bench output: it has no pp and tg test");
  }
  const after = afterPrompt === undefined ? undefined : test(false, afterPrompt);
  if (afterPrompt !== undefined && !after) {
    throw new SyntaxError(
      `Cannot read llama-bench output: it has no tg test at depth ${afterPrompt}`,
    );
  }
  return {
    prefillTokensPerSecond: pp.avg_ts,
    decodeTokensPerSecond: tg.avg_ts,
    ...(after ? { afterPromptDecodeTokensPerSecond: after.avg_ts } : {}),
    build: pp.build_commit ?? "unknown build",
    backends: pp.backends ?? "unknown backends",
    threads: pp.n_threads ?? null,
  };
}

/**
 * llama-bench's arguments for a round: `-p` prompt tokens and `-n` decode tokens at depths 0
 * and the prompt's length (`-d`: tg at that depth is decoding after the prompt), `-t` the
 * threads, `-r 1` (one repetition a round, after llama-bench's own warm-up, so rounds
 * interleave with ours), JSON out; everything else at llama-bench's defaults.
 */
export function llamaBenchArgs(request: Omit<LlamaCppRoundRequest, "firstToken">): string[] {
  const prompt = request.promptTokens.length;
  return [
    ...["-m", request.gguf, "-p", String(prompt), "-n", String(request.decodeTokens)],
    ...["-d", `0,${prompt}`, "-t", String(request.threads), "-r", "1", "-o", "json"],
  ];
}

/** The label of llama-bench at `path`: what it was built from, or its output's build. */
export function llamaBenchLabel(path: string, build: LlamaBenchBuild | null, run?: LlamaBenchRun) {
  const backends = run ? `, ${run.backends}` : "";
  if (build === null) {
    return `llama-bench ${path} (given with --llama-bench${
      run ? `; build ${run.build}` : ""
    }${backends})`;
  }
  return `llama.cpp ${build.release} (commit ${build.commit.slice(0, 7)}) llama-bench, built ` +
    `here from ${build.source}'s source (${build.summary}; ${path})${backends}`;
}

/**
 * llama.cpp's own `llama-bench` binary at `path` (`build`: how it was built here, null when
 * given). Its tg does not sample, where our decode takes the argmax of the logits.
 */
export function llamaBenchSide(path: string, build: LlamaBenchBuild | null): LlamaCppSide {
  let last: LlamaBenchRun | undefined;
  return {
    runner: "llama-bench",
    label: () => llamaBenchLabel(path, build, last),
    async round(request) {
      const output = await new Deno.Command(path, {
        args: llamaBenchArgs(request),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      if (!output.success) {
        const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-10);
        throw new Error(`${path} exited ${output.code}: ${stderr.join("\n")}`);
      }
      const run = parseLlamaBenchJson(stdout, request.promptTokens.length);
      if (run.threads !== null && run.threads !== request.threads) {
        throw new Error(`${path} ran ${run.threads} threads, not the ${request.threads} asked`);
      }
      last = run;
      return run;
    },
  };
}

/**
 * The GGUF of the checkpoint in `modelDir` with matrices in `type`, written once into
 * `ggufDir` under a name derived from the checkpoint's spec stamp (random_checkpoint_spec.json,
 * written by ensureRandomCheckpoint), so a changed checkpoint gets a new file.
 */
export async function ensureGguf(
  modelDir: string,
  ggufDir: string,
  name: string,
  type: GgmlType,
): Promise<string> {
  const stamp = await Deno.readTextFile(`${modelDir}/random_checkpoint_spec.json`);
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(`${CONVERSION_VERSION}\n${type}\n${stamp}`),
    ),
  );
  const hash = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const path = `${ggufDir}/${name}-${type}-${hash}.gguf`;
  try {
    await Deno.stat(path);
    return path;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(ggufDir, { recursive: true });
  await writeCheckpointGguf(modelDir, path, type, `exo-node random ${name}`);
  return path;
}

/** llama.cpp for this run: how it runs, or why it does not. */
export interface LlamaCppSetup {
  side: LlamaCppSide | null;
  device: LlamaCppDevice;
  /** node-llama-cpp for the model check (whichever runner measures), if it installed. */
  checker: NodeLlamaCpp | null;
  /** Why the side or the checker is missing. */
  problem: string;
}

/**
 * Sets llama.cpp up for a run in `dir`: installs node-llama-cpp (the model checker, whose
 * package also carries the llama.cpp source llama-bench is built from), then the runner:
 * the given llama-bench, the cached or newly built one (`log` tells of a build), or
 * node-llama-cpp. A node-llama-cpp that cannot install leaves the checker (and that runner)
 * missing with the reason in `problem`.
 * @throws {LlamaBenchBuildError} when llama-bench is to be built and cannot be.
 */
export async function setUpLlamaCpp(
  choice: Exclude<LlamaCppChoice, { runner: "none" }>,
  dir: string,
  log: (line: string) => void,
): Promise<LlamaCppSetup> {
  let checker: NodeLlamaCpp | null = null;
  let problem = "";
  try {
    checker = await installNodeLlamaCpp(dir);
  } catch (error) {
    if (!(error instanceof LlamaCppUnavailableError)) throw error;
    problem = error.message;
  }
  switch (choice.runner) {
    case "node-llama-cpp": {
      const side = checker ? nodeLlamaCppSide(checker) : null;
      return { side, device: checker?.device ?? "cpu", checker, problem };
    }
    case "llama-bench": {
      if (choice.path !== undefined) {
        // A given binary on Apple Silicon is taken to be a Metal build, llama.cpp's default.
        const device = Deno.build.os === "darwin" && Deno.build.arch === "aarch64"
          ? "metal"
          : "cpu";
        return { side: llamaBenchSide(choice.path, null), device, checker, problem };
      }
      if (checker === null) {
        throw new LlamaBenchBuildError(
          "Cannot build llama-bench: node-llama-cpp, whose npm package carries the llama.cpp " +
            `source, did not install: ${problem}`,
        );
      }
      const build = await ensureLlamaBench(checker, dir, { log });
      return { side: llamaBenchSide(build.path, build), device: "cpu", checker, problem };
    }
  }
}
