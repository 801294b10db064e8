import assert from "node:assert/strict";
import { parseLlamaBenchJson } from "../../scripts/_llama_cpp_runner.ts";
import { prebuiltPackage } from "../../scripts/_node_llama_cpp.ts";

Deno.test("parseLlamaBenchJson reads the pp and tg tests of llama-bench's -o json output", () => {
  // A made-up sample in the form of `llama-bench -p 512 -n 128 -r 1 -o json` (fields trimmed).
  const output = `[
  {
    "build_commit": "80fb11a",
    "model_type": "llama 1B Q4_0",
    "n_threads": 2,
    "n_prompt": 512,
    "n_gen": 0,
    "n_depth": 0,
    "avg_ts": 195.25,
    "stddev_ts": 0.0,
    "samples_ns": [ 2622259000 ],
    "samples_ts": [ 195.25 ]
  },
  {
    "build_commit": "80fb11a",
    "model_type": "llama 1B Q4_0",
    "n_threads": 2,
    "n_prompt": 0,
    "n_gen": 128,
    "n_depth": 0,
    "avg_ts": 42.6,
    "stddev_ts": 0.0,
    "samples_ns": [ 3004694000 ],
    "samples_ts": [ 42.6 ]
  }
]`;
  assert.deepEqual(parseLlamaBenchJson(output), {
    prefillTokensPerSecond: 195.25,
    decodeTokensPerSecond: 42.6,
    build: "80fb11a",
  });
  assert.throws(() => parseLlamaBenchJson("main: error"), /not JSON/);
  assert.throws(() => parseLlamaBenchJson("[]"), /no pp and tg test/);
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
