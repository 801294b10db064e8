/**
 * llama.cpp as bench:engine runs it in the same run as ours: the checkpoint written as GGUF
 * (cached beside the checkpoint, named after its spec, so a changed spec gets a new file),
 * and one measuring round at a time, either through node-llama-cpp (the driver) or through
 * a `llama-bench` binary given with `--llama-bench PATH`.
 *
 * @module
 */

import type { GgmlType } from "../tests/fixtures/ggml_quants.ts";
import { writeCheckpointGguf } from "../tests/fixtures/checkpoint_gguf.ts";
import {
  installNodeLlamaCpp,
  type LlamaCppDevice,
  LlamaCppUnavailableError,
  type NodeLlamaCpp,
  runLlamaCppDriver,
} from "./_node_llama_cpp.ts";

/** Bumped when the GGUF conversion changes, so cached files are written again. */
const CONVERSION_VERSION = 1;

/** One round of llama.cpp's figures. */
export interface LlamaCppRound {
  /** Prompt processing, tokens/s (llama-bench's pp). */
  prefillTokensPerSecond: number;
  /** Decoding from an empty context, tokens/s (llama-bench's tg). */
  decodeTokensPerSecond: number;
  /** Decoding after the prompt, tokens/s; absent from llama-bench, which does not measure it. */
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
  /** What runs, e.g. "llama.cpp v0.4.0 via node-llama-cpp 3.21.1 (...), cpu"; fuller after a round. */
  label(): string;
  round(request: LlamaCppRoundRequest): Promise<LlamaCppRound>;
}

/** llama.cpp through node-llama-cpp, one fresh Node.js process a round. */
export function nodeLlamaCppSide(installed: NodeLlamaCpp): LlamaCppSide {
  let release = "";
  return {
    label: () =>
      `llama.cpp ${
        release || "(release not yet known)"
      } via ${installed.label}, ${installed.device}; ` +
      "decode is greedy generation (sampling included, as ours)",
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
  n_prompt: number;
  n_gen: number;
  avg_ts: number;
}

/**
 * Reads llama-bench's `-o json` output: the pp test's and the tg test's tokens/s.
 * @throws {SyntaxError} when the output is not that JSON or lacks either test.
 */
export function parseLlamaBenchJson(text: string): LlamaCppRound & { build: string } {
  let tests: LlamaBenchTest[];
  try {
    tests = JSON.parse(text);
  } catch {
    throw new SyntaxError(`Cannot read llama-bench output: not JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(tests)) throw new SyntaxError("Cannot read llama-bench output: not a list");
  const pp = tests.find((t) => t.n_prompt > 0 && t.n_gen === 0);
  const tg = tests.find((t) => t.n_gen > 0 && t.n_prompt === 0);
  if (!pp || !tg || typeof pp.avg_ts !== "number" || typeof tg.avg_ts !== "number") {
    throw new SyntaxError("Cannot read llama-bench output: it has no pp and tg test");
  }
  return {
    prefillTokensPerSecond: pp.avg_ts,
    decodeTokensPerSecond: tg.avg_ts,
    build: pp.build_commit ?? "unknown build",
  };
}

/**
 * llama.cpp's own `llama-bench` binary: `-p` prompt tokens, `-n` decode tokens, `-r 1` (one
 * repetition a round, so rounds interleave with ours). Its tg does not sample.
 */
export function llamaBenchSide(path: string): LlamaCppSide {
  let build = "";
  return {
    label: () => `${path}${build ? ` (build ${build})` : ""}, llama-bench pp/tg`,
    async round(request) {
      const output = await new Deno.Command(path, {
        args: [
          "-m",
          request.gguf,
          "-p",
          String(request.promptTokens.length),
          "-n",
          String(request.decodeTokens),
          "-t",
          String(request.threads),
          "-r",
          "1",
          "-o",
          "json",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      if (!output.success) {
        const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-10);
        throw new Error(`${path} exited ${output.code}: ${stderr.join("\n")}`);
      }
      const parsed = parseLlamaBenchJson(stdout);
      build = parsed.build;
      return parsed;
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
  /** node-llama-cpp for the model check (also with --llama-bench), if it installed. */
  checker: NodeLlamaCpp | null;
  /** Why the side or the checker is missing. */
  problem: string;
}

/**
 * Sets llama.cpp up for a run: installs node-llama-cpp into `dir` (the runner unless
 * `llamaBench` names a llama-bench binary, and the model checker either way).
 */
export async function setUpLlamaCpp(
  llamaBench: string | undefined,
  dir: string,
): Promise<LlamaCppSetup> {
  let checker: NodeLlamaCpp | null = null;
  let problem = "";
  try {
    checker = await installNodeLlamaCpp(dir);
  } catch (error) {
    if (!(error instanceof LlamaCppUnavailableError)) throw error;
    problem = error.message;
  }
  if (llamaBench !== undefined) {
    const device = Deno.build.os === "darwin" && Deno.build.arch === "aarch64" ? "metal" : "cpu";
    return { side: llamaBenchSide(llamaBench), device, checker, problem };
  }
  const side = checker ? nodeLlamaCppSide(checker) : null;
  return { side, device: checker?.device ?? "cpu", checker, problem };
}
