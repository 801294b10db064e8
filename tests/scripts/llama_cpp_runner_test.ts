import assert from "node:assert/strict";
import {
  llamaBenchArgs,
  llamaBenchSide,
  llamaCppChoice,
  nodeLlamaCppLabel,
  parseLlamaBenchJson,
} from "../../scripts/_llama_cpp_runner.ts";
import { prebuiltPackage } from "../../scripts/_node_llama_cpp.ts";
import { llamaCppSourceLabel, measuredLlamaCpp } from "../../scripts/_engine_report.ts";
import type { RunResult } from "../../scripts/_engine_worker.ts";
import type { LlamaBenchBuild } from "../../scripts/_llama_bench_build.ts";

/** One test of `llama-bench -o json` output (fields trimmed to those that matter here). */
function benchTest(nPrompt: number, nGen: number, nDepth: number, avgTs: number) {
  return {
    build_commit: "80fb11a",
    backends: "CPU",
    model_type: "llama 1B Q4_0",
    n_threads: 2,
    n_prompt: nPrompt,
    n_gen: nGen,
    n_depth: nDepth,
    avg_ts: avgTs,
    stddev_ts: 0.0,
  };
}

/** What `llama-bench -p 512 -n 128 -d 0,512 -t 2 -r 1 -o json` prints, in its order. */
const DEPTH_OUTPUT = JSON.stringify([
  benchTest(512, 0, 0, 195.25),
  benchTest(0, 128, 0, 42.6),
  benchTest(512, 0, 512, 160.5),
  benchTest(0, 128, 512, 38.1),
]);

Deno.test("parseLlamaBenchJson reads pp and tg at depth 0 and tg at the prompt's depth", () => {
  assert.deepEqual(parseLlamaBenchJson(DEPTH_OUTPUT, 512), {
    prefillTokensPerSecond: 195.25,
    decodeTokensPerSecond: 42.6,
    afterPromptDecodeTokensPerSecond: 38.1,
    build: "80fb11a",
    backends: "CPU",
    threads: 2,
  });
  // Without a depth asked, the depth-512 tests are not taken for the depth-0 ones.
  const { afterPromptDecodeTokensPerSecond, ...plain } = parseLlamaBenchJson(DEPTH_OUTPUT);
  assert.equal(afterPromptDecodeTokensPerSecond, undefined);
  assert.equal(plain.decodeTokensPerSecond, 42.6);
  // Output of a llama-bench from before -d has no n_depth: its tests are at depth 0.
  const old = JSON.stringify([
    { build_commit: "1a2b3c4", n_prompt: 512, n_gen: 0, avg_ts: 195.25 },
    { build_commit: "1a2b3c4", n_prompt: 0, n_gen: 128, avg_ts: 42.6 },
  ]);
  assert.deepEqual(parseLlamaBenchJson(old), {
    prefillTokensPerSecond: 195.25,
    decodeTokensPerSecond: 42.6,
    build: "1a2b3c4",
    backends: "unknown backends",
    threads: null,
  });
  assert.throws(() => parseLlamaBenchJson(old, 512), /no tg test at depth 512/);
  assert.throws(() => parseLlamaBenchJson("main: error"), /not JSON/);
  assert.throws(() => parseLlamaBenchJson("{}"), /not a list/);
  assert.throws(() => parseLlamaBenchJson("[]"), /no pp and tg test/);
});

Deno.test("llamaBenchArgs asks for pp and tg at depths 0 and the prompt, our threads, one repetition", () => {
  assert.deepEqual(
    llamaBenchArgs({ gguf: "/m.gguf", threads: 2, promptTokens: [1, 2, 3], decodeTokens: 16 }),
    ["-m", "/m.gguf", "-p", "3", "-n", "16", "-d", "0,3", "-t", "2", "-r", "1", "-o", "json"],
  );
});

Deno.test("llamaCppChoice makes llama-bench the default and node-llama-cpp an explicit choice", () => {
  assert.deepEqual(llamaCppChoice({ vsLlamaCpp: false }), { runner: "none" });
  assert.deepEqual(llamaCppChoice({ vsLlamaCpp: true }), { runner: "llama-bench" });
  assert.deepEqual(llamaCppChoice({ vsLlamaCpp: false, llamaBench: "/bin/lb" }), {
    runner: "llama-bench",
    path: "/bin/lb",
  });
  assert.deepEqual(llamaCppChoice({ vsLlamaCpp: true, llamaCpp: "llama-bench" }), {
    runner: "llama-bench",
  });
  // --llama-cpp alone implies --vs-llama-cpp.
  assert.deepEqual(llamaCppChoice({ vsLlamaCpp: false, llamaCpp: "node-llama-cpp" }), {
    runner: "node-llama-cpp",
  });
  assert.throws(
    () => llamaCppChoice({ vsLlamaCpp: true, llamaCpp: "llamafile" }),
    /^RangeError: Cannot benchmark: unknown --llama-cpp "llamafile", use llama-bench or node-llama-cpp$/,
  );
  assert.throws(
    () => llamaCppChoice({ vsLlamaCpp: true, llamaCpp: "node-llama-cpp", llamaBench: "/x" }),
    /--llama-bench PATH runs llama-bench, not --llama-cpp node-llama-cpp/,
  );
});

Deno.test("bench:engine stops on a bad --llama-cpp with the usage and status 2", async () => {
  const script = new URL("../../scripts/bench_engine.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, "--llama-cpp", "ollama"],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(stderr, /^bench:engine: Cannot benchmark: unknown --llama-cpp "ollama"/);
  assert.match(stderr, /\[--llama-cpp llama-bench\|node-llama-cpp\]/);
});

Deno.test("the node-llama-cpp runner and its rows are labelled as a fallback, llama-bench's not", () => {
  const label = nodeLlamaCppLabel(
    { packageDir: "/p", device: "cpu", label: "node-llama-cpp 3.21.1 (@node-llama-cpp/linux-x64)" },
    "v0.4.0",
  );
  assert.match(label, /^FALLBACK, not llama\.cpp's best: node-llama-cpp's generation loop/);
  assert.match(label, /llama\.cpp v0\.4\.0 via node-llama-cpp 3\.21\.1/);
  const row = { source: "this run", prefillTokensPerSecond: 1, decodeTokensPerSecond: 1 } as const;
  const ratios = { prefillRatio: 1, decodeRatio: 1 };
  assert.equal(
    llamaCppSourceLabel({ ...row, ...ratios, runner: "node-llama-cpp" }),
    "node-llama-cpp (FALLBACK), this run",
  );
  assert.equal(
    llamaCppSourceLabel({ ...row, ...ratios, runner: "llama-bench" }),
    "llama-bench, this run",
  );
  assert.equal(
    llamaCppSourceLabel({ ...row, ...ratios, source: "fixed" }),
    "FIXED (earlier day)",
  );
});

/** Our figures of one round, as the run worker reports them (speed fields only matter). */
function ourRound(prefill: number, afterPrompt: number, empty: number): RunResult {
  return {
    prefillTokensPerSecond: prefill,
    decodeTokensPerSecond: afterPrompt,
    emptyContextDecodeTokensPerSecond: empty,
  } as RunResult;
}

Deno.test("measuredLlamaCpp pairs each round's figures, after the prompt too, and takes medians", () => {
  const ours = [ourRound(100, 30, 40), ourRound(120, 27, 36), ourRound(90, 33, 44)];
  const theirs = [
    {
      prefillTokensPerSecond: 200,
      decodeTokensPerSecond: 50,
      afterPromptDecodeTokensPerSecond: 40,
    },
    {
      prefillTokensPerSecond: 100,
      decodeTokensPerSecond: 40,
      afterPromptDecodeTokensPerSecond: 30,
    },
    {
      prefillTokensPerSecond: 150,
      decodeTokensPerSecond: 55,
      afterPromptDecodeTokensPerSecond: 44,
    },
  ];
  const measured = measuredLlamaCpp("llama-bench", ours, theirs, true);
  assert.equal(measured.runner, "llama-bench");
  assert.equal(measured.prefillTokensPerSecond, 150);
  assert.equal(measured.decodeTokensPerSecond, 50);
  assert.equal(measured.afterPromptDecodeTokensPerSecond, 40);
  // Paired ratios: prefill 0.5, 1.2, 0.6; after the prompt 0.75, 0.9, 0.75; empty 0.8, 0.9, 0.8.
  assert.equal(measured.prefillRatio, 0.6);
  assert.equal(measured.afterPromptDecodeRatio, 0.75);
  assert.equal(measured.decodeRatio, 0.8);
  assert.equal(measured.afterPromptRatio, 0.8);
  // No ratio across devices; no after-prompt figure when a round lacks it.
  const apart = measuredLlamaCpp("llama-bench", ours.slice(0, 1), [theirs[0]], false);
  assert.equal(apart.decodeRatio, null);
  assert.equal(apart.afterPromptDecodeRatio, null);
  const { afterPromptDecodeTokensPerSecond: _, ...without } = theirs[0];
  const none = measuredLlamaCpp("node-llama-cpp", ours.slice(0, 1), [without], true);
  assert.equal(none.afterPromptDecodeTokensPerSecond, null);
  assert.equal(none.afterPromptDecodeRatio, null);
});

Deno.test({
  name: "llamaBenchSide runs the binary with the round's arguments and labels the build",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // A stand-in llama-bench: records its arguments, prints the output for the given -t.
      const argsFile = `${dir}/args`;
      const outputFile = `${dir}/output.json`;
      await Deno.writeTextFile(outputFile, DEPTH_OUTPUT);
      const path = `${dir}/llama-bench`;
      await Deno.writeTextFile(
        path,
        `#!/bin/sh\necho "$*" > ${argsFile}\n` +
          `[ "$1" = "-m" ] && [ "$2" = "/missing.gguf" ] && ` +
          `{ echo "error: failed to load model" >&2; exit 1; }\ncat ${outputFile}\n`,
      );
      await Deno.chmod(path, 0o755);
      const build: LlamaBenchBuild = {
        path,
        release: "v0.4.0",
        commit: "80fb11ac73e66d89eae2c6a91d8a77428fa733ed",
        source: "node-llama-cpp 3.21.1 (@node-llama-cpp/linux-x64)",
        cmakeFlags: ["-DGGML_NATIVE=ON"],
        summary: "CPU only, -march=native without AMX, static release",
        buildSeconds: 900,
        builtAt: "2026-12-07T00:00:00.000Z",
      };
      const side = llamaBenchSide(path, build);
      assert.equal(side.runner, "llama-bench");
      const request = {
        gguf: "/m.gguf",
        threads: 2,
        promptTokens: Array.from({ length: 512 }, (_, i) => i),
        decodeTokens: 128,
        firstToken: 5,
      };
      const round = await side.round(request);
      assert.equal(round.afterPromptDecodeTokensPerSecond, 38.1);
      assert.equal(
        (await Deno.readTextFile(argsFile)).trim(),
        "-m /m.gguf -p 512 -n 128 -d 0,512 -t 2 -r 1 -o json",
      );
      assert.equal(
        side.label(),
        "llama.cpp v0.4.0 (commit 80fb11a) llama-bench, built here from node-llama-cpp 3.21.1 " +
          `(@node-llama-cpp/linux-x64)'s source (CPU only, -march=native without AMX, static ` +
          `release; ${path}), CPU`,
      );
      // A binary that ran another thread count than asked is not our comparison.
      await assert.rejects(side.round({ ...request, threads: 1 }), /ran 2 threads, not the 1/);
      await assert.rejects(
        side.round({ ...request, gguf: "/missing.gguf" }),
        /exited 1: error: failed to load model/,
      );
      const given = llamaBenchSide(path, null);
      await given.round(request);
      assert.equal(
        given.label(),
        `llama-bench ${path} (given with --llama-bench; build 80fb11a, CPU)`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("prebuiltPackage picks node-llama-cpp's CPU build on Linux and its Metal build on Apple Silicon", () => {
  assert.deepEqual(prebuiltPackage("linux", "x86_64"), {
    name: "@node-llama-cpp/linux-x64",
    device: "cpu",
  });
  assert.deepEqual(prebuiltPackage("linux", "aarch64"), {
    name: "@node-llama-cpp/linux-arm64",
    device: "cpu",
  });
  assert.deepEqual(prebuiltPackage("darwin", "aarch64"), {
    name: "@node-llama-cpp/mac-arm64-metal",
    device: "metal",
  });
  assert.equal(prebuiltPackage("freebsd", "x86_64"), null);
});
