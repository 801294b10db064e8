import assert from "node:assert/strict";
import { describeProfile, summarizeProfile } from "../../../lib/inference/onnx/profile_summary.ts";
import { loadWholeShard, withCheckpoint } from "../_shard_fixture.ts";

const run = (ts: number, dur: number) => ({ cat: "Session", name: "model_run", ts, dur });
const kernel = (node: string, op: string, ts: number, dur: number) => ({
  cat: "Node",
  name: `${node}_kernel_time`,
  ts,
  dur,
  args: { op_name: op, provider: "CPUExecutionProvider" },
});

Deno.test("summarizeProfile averages the kernels of the last runs only, by op type", () => {
  const trace = [
    run(0, 1000), // the warm-up: left out
    kernel("a", "MatMul", 10, 900),
    run(2000, 100),
    kernel("a", "MatMul", 2010, 40),
    kernel("b", "Add", 2060, 10),
    { cat: "Node", name: "b_fence_before", ts: 2055, dur: 5, args: { op_name: "Add" } },
    run(3000, 140),
    kernel("a", "MatMul", 3010, 60),
    kernel("b", "Add", 3080, 30),
  ];
  const summary = summarizeProfile(JSON.stringify(trace), 2);
  assert.equal(summary.runs, 2);
  assert.equal(summary.runMicros, 120);
  assert.equal(summary.kernelMicros, 70);
  assert.deepEqual(summary.ops, [
    { op: "MatMul", nodes: 1, micros: 50 },
    { op: "Add", nodes: 1, micros: 20 },
  ]);
  assert.deepEqual(describeProfile(summary, 1), [
    "one run: 0.12 ms, 2 nodes (mean of 2 runs)",
    "  outside kernels: 0.05 ms (41.7%)",
    "  MatMul: 1 nodes, 0.05 ms (41.7%)",
    "  1 other op types: 1 nodes, 0.02 ms (16.7%)",
  ]);
});

Deno.test("summarizeProfile can leave out the last runs", () => {
  const trace = [
    run(0, 100),
    kernel("a", "MatMul", 10, 30),
    run(200, 100),
    kernel("a", "MatMul", 210, 50),
    run(400, 100),
    kernel("a", "MatMul", 410, 90),
  ];
  const summary = summarizeProfile(JSON.stringify(trace), 1, 1);
  assert.deepEqual(summary.ops, [{ op: "MatMul", nodes: 1, micros: 50 }]);
});

Deno.test("summarizeProfile refuses a text that is not a trace, or too few runs", () => {
  assert.throws(() => summarizeProfile("{}", 1), /not a list of events/);
  assert.throws(
    () => summarizeProfile(JSON.stringify([run(0, 5)]), 2),
    /asked for 2 runs before its last 0, it holds 1/,
  );
  assert.throws(() => summarizeProfile(JSON.stringify([run(0, 5)]), 0), /asked for 0 runs/);
  assert.throws(() => summarizeProfile(JSON.stringify([run(0, 5)]), 1, 1), /it holds 1/);
});

Deno.test("a shard loaded with profile keeps ORT's profiler on until endProfile", async () => {
  await withCheckpoint({ architecture: "llama", seed: 3 }, async (f) => {
    const runner = await loadWholeShard(f, { profile: true });
    try {
      assert.equal(runner.placement.providers.length, 0, "no placement while profiling");
      for (const token of [1, 2, 3]) await runner.step("r", { tokenIds: [token] });
      const summary = summarizeProfile(await runner.endProfile(), 3);
      const [cpu] = runner.placement.providers;
      assert.equal(cpu.provider, "CPUExecutionProvider");
      // Each step runs every node of the graph once.
      const nodes = summary.ops.reduce((sum, op) => sum + op.nodes, 0);
      assert.equal(nodes, cpu.nodes);
      assert.ok(summary.ops.some((op) => op.op === "MatMul"), "the projections are there");
      assert.ok(summary.kernelMicros > 0 && summary.kernelMicros <= summary.runMicros);
      await assert.rejects(() => runner.endProfile(), /already ended/);
    } finally {
      await runner.dispose();
    }
  });
});

Deno.test("a shard loaded without profile has no profile to end", async () => {
  await withCheckpoint({ architecture: "llama", seed: 3 }, async (f) => {
    const runner = await loadWholeShard(f);
    try {
      assert.ok(runner.placement.providers.length > 0, "the warm-up's placement was read");
      await assert.rejects(() => runner.endProfile(), /already ended/);
    } finally {
      await runner.dispose();
    }
  });
});
