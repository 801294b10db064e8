import assert from "node:assert/strict";
import {
  candidateDType,
  candidateProviders,
  type CandidateResult,
  coremlShortfall,
  probeProviders,
  turnSeconds,
} from "../../lib/inference/provider_probe.ts";
import { withCheckpoint } from "./_shard_fixture.ts";

function candidate(over: Partial<CandidateResult>): CandidateResult {
  return {
    provider: "cpu",
    dtype: "q4",
    decodeTokensPerSecond: 20,
    prefillTokensPerSecond: 200,
    out: null,
    ...over,
  };
}

Deno.test("candidateProviders tries the CPU first, WebGPU always and CoreML where the build has it", () => {
  assert.deepEqual(candidateProviders(["cpu"]), ["cpu", "webgpu"]);
  assert.deepEqual(candidateProviders(["cpu", "webgpu", "coreml"]), ["cpu", "webgpu", "coreml"]);
});

Deno.test("candidateDType keeps the dtype asked for, but CoreML runs float16 for q4", () => {
  assert.equal(candidateDType("webgpu", "q4"), "q4");
  assert.equal(candidateDType("coreml", "q4"), "float16");
  assert.equal(candidateDType("coreml", "float32"), "float32");
});

Deno.test("turnSeconds weighs a 512-token prompt and a 256-token reply; an out candidate never wins", () => {
  assert.equal(turnSeconds(candidate({})), 512 / 200 + 256 / 20);
  // Faster decode but a much slower prompt loses the typical turn.
  const gpu = candidate({ decodeTokensPerSecond: 22, prefillTokensPerSecond: 40 });
  assert.ok(turnSeconds(gpu) > turnSeconds(candidate({})));
  assert.equal(turnSeconds(candidate({ out: "wrong" })), Infinity);
});

Deno.test("coremlShortfall refuses CoreML unless it runs most of the graph", () => {
  const placed = (coreml: number, cpu: number) => ({
    providers: [
      { provider: "CPUExecutionProvider", nodes: cpu, ops: {} },
      { provider: "CoreMLExecutionProvider", nodes: coreml, ops: {} },
    ],
  });
  assert.equal(
    coremlShortfall(placed(4, 118)),
    "CoreML would run 4 of 122 nodes, the rest on the CPU",
  );
  assert.equal(
    coremlShortfall(placed(61, 61)),
    "CoreML would run 61 of 122 nodes, the rest on the CPU",
  );
  assert.equal(coremlShortfall(placed(100, 22)), null);
  assert.match(coremlShortfall({ providers: [] })!, /could not be read/);
});

Deno.test("probeProviders projects a long shard from its last layers and leaves no probe graph behind", async () => {
  await withCheckpoint({ architecture: "llama", numLayers: 3, seed: 9 }, async (f) => {
    const cacheDir = `${f.root}/cache`;
    const result = await probeProviders({
      modelDir: f.dir,
      config: f.config,
      startLayer: 0,
      endLayer: 2,
      dtype: "q4",
      cacheDir,
      threads: 1,
      maxContext: 32,
      providers: ["cpu"],
      settings: { maxLayers: 2 },
    });
    assert.equal(result.provider, "cpu");
    assert.deepEqual(result.probeLayers, { startLayer: 1, endLayer: 2 });
    assert.equal(result.projected, true);
    const [cpu] = result.candidates;
    assert.equal(cpu.out, null);
    assert.ok(cpu.decodeTokensPerSecond! > 0 && cpu.prefillTokensPerSecond! > 0);
    assert.deepEqual([...Deno.readDirSync(cacheDir)], [], "slices are not the shard: none kept");
  });
});
