import assert from "node:assert/strict";
import {
  decisionKey,
  type KeptDecision,
  openDecisionCache,
  PROBE_VERSION,
} from "../../lib/inference/decision_cache.ts";
import { SHARD_GRAPH_VERSION } from "../../lib/inference/onnx/shard_graph.ts";
import { VERSION } from "../../lib/cli/version.ts";
import { Logger } from "../../lib/log/logger.ts";

const MACHINE = { chip: "Apple M2 Pro", cores: 12 };

const DECISION: KeptDecision = {
  provider: "webgpu",
  dtype: "q4",
  candidates: [
    {
      provider: "cpu",
      dtype: "q4",
      decodeTokensPerSecond: 27.5,
      prefillTokensPerSecond: 120,
      out: null,
    },
    {
      provider: "webgpu",
      dtype: "q4",
      decodeTokensPerSecond: 41.2,
      prefillTokensPerSecond: 310,
      out: null,
    },
  ],
  probeLayers: { startLayer: 12, endLayer: 15 },
  projected: true,
  measuredAt: 1700000000000,
};

async function withModelDir(body: (dir: string, root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "decision_cache_test_" });
  try {
    await Deno.mkdir(`${root}/model`);
    await Deno.writeTextFile(`${root}/model/config.json`, "{}");
    await body(`${root}/model`, root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A decision cache under `root`, its warnings collected. */
function cacheIn(root: string) {
  const warnings: string[] = [];
  const logger = new Logger("warn", (_, __, message) => warnings.push(message));
  return { cache: openDecisionCache(`${root}/choices`, logger), warnings };
}

function shard(modelDir: string) {
  return { modelDir, startLayer: 8, endLayer: 15, dtype: "q4" as const, threads: 4 };
}

Deno.test("decisionKey covers the model files, shard, dtype, threads, build and machine", async () => {
  await withModelDir(async (dir) => {
    const key = await decisionKey(shard(dir), MACHINE);
    assert.deepEqual(key.model.files.map(([name]) => name), ["config.json"]);
    assert.deepEqual([key.startLayer, key.endLayer, key.dtype, key.threads], [8, 15, "q4", 4]);
    assert.equal(key.build.shardGraph, SHARD_GRAPH_VERSION);
    assert.equal(key.build.exoNode, VERSION);
    assert.equal(key.build.probe, PROBE_VERSION);
    assert.match(key.build.onnxruntime, /^\d+\.\d+\.\d+/);
    assert.deepEqual(key.machine, { ...MACHINE, os: Deno.build.os, arch: Deno.build.arch });
    await Deno.writeTextFile(`${dir}/model.safetensors`, "weights");
    assert.notDeepEqual((await decisionKey(shard(dir), MACHINE)).model, key.model);
  });
});

Deno.test("A kept decision is read back only for its own key and is gone once forgotten", async () => {
  await withModelDir(async (dir, root) => {
    const { cache, warnings } = cacheIn(root);
    const key = await decisionKey(shard(dir), MACHINE);
    assert.equal(await cache.read(key), null);
    await cache.write(key, DECISION);
    assert.deepEqual(await cache.read(key), DECISION);

    const others = [
      { ...key, endLayer: 14 },
      { ...key, dtype: "float16" as const },
      { ...key, build: { ...key.build, onnxruntime: "9.9.9" } },
      { ...key, build: { ...key.build, exoNode: "9.9.9" } },
      { ...key, machine: { ...key.machine, chip: "Apple M3" } },
      { ...key, machine: { ...key.machine, cores: 8 } },
    ];
    for (const other of others) assert.equal(await cache.read(other), null, JSON.stringify(other));
    assert.deepEqual(warnings, []);

    await cache.forget(key);
    assert.equal(await cache.read(key), null);
    await cache.forget(key);
  });
});

Deno.test("A damaged or tampered decision file is ignored with a warning", async () => {
  await withModelDir(async (dir, root) => {
    const { cache, warnings } = cacheIn(root);
    const key = await decisionKey(shard(dir), MACHINE);
    await cache.write(key, DECISION);
    const [file] = [...Deno.readDirSync(`${root}/choices`)].map((e) => `${root}/choices/${e.name}`);
    const kept = JSON.parse(await Deno.readTextFile(file));
    const damaged = [
      "{not json",
      JSON.stringify({ ...kept, decision: { ...kept.decision, provider: "cuda" } }),
      JSON.stringify({
        ...kept,
        decision: { ...kept.decision, candidates: [{ ...DECISION.candidates[1], out: "wrong" }] },
      }),
      JSON.stringify({ ...kept, decision: { ...kept.decision, measuredAt: "yesterday" } }),
      JSON.stringify({
        ...kept,
        decision: {
          ...kept.decision,
          candidates: [{ ...DECISION.candidates[1], decodeTokensPerSecond: -1 }],
        },
      }),
    ];
    for (const text of damaged) {
      await Deno.writeTextFile(file, text);
      assert.equal(await cache.read(key), null, text);
    }
    assert.equal(warnings.length, damaged.length);
    assert.match(warnings[0], /auto: ignoring the unreadable decision in/);
  });
});
