// `--execution-provider auto` in the engine: on CI WebGPU runs on Mesa's lavapipe (see
// tests/_helpers/webgpu.ts), so both candidates are measured; which one wins here does not
// matter, the rule does. A child process without a Vulkan driver stands for a machine with
// no GPU (see _no_webgpu.ts).
import assert from "node:assert/strict";
import { OnnxEngine, type OnnxEngineOptions, type ShardRequest } from "../../lib/inference/mod.ts";
import { turnSeconds } from "../../lib/inference/provider_probe.ts";
import type { ProviderChoice } from "../../lib/inference/provider_choice.ts";
import { runWithoutWebgpu } from "./_no_webgpu.ts";
import { Logger } from "../../lib/log/logger.ts";
import { webgpuTest } from "../_helpers/webgpu.ts";
import {
  assertClose,
  type Fixture,
  lastLogits,
  logitsOf,
  PROMPT,
  Q4_TOLERANCE,
  withCheckpoint,
} from "./_shard_fixture.ts";

const MACHINE = { chip: "Test Chip", cores: 2 };

/** An engine whose log lines (scope and message) land in `lines`. */
function engineFor(
  f: Fixture,
  lines: string[],
  options: Partial<OnnxEngineOptions> = {},
): OnnxEngine {
  return new OnnxEngine({
    cacheDir: `${f.root}/cache`,
    threads: 1,
    maxContext: 32,
    logger: new Logger("info", (_, __, message) => lines.push(message)),
    ...options,
    auto: { decisions: { dir: `${f.root}/choices`, machine: MACHINE }, ...options.auto },
  });
}

function whole(f: Fixture, over: Partial<ShardRequest> = {}): ShardRequest {
  return {
    modelDir: f.dir,
    startLayer: 0,
    endLayer: f.config.numLayers - 1,
    dtype: "q4",
    executionProvider: "auto",
    ...over,
  };
}

const FIGURES = "[\\d.]+ tok/s \\(prompt [\\d.]+ tok/s\\)";

Deno.test(webgpuTest(
  "auto measures the CPU and WebGPU, runs the shorter turn, keeps it, and a restart loads without probing",
  async () => {
    await withCheckpoint({ architecture: "llama", numLayers: 2, seed: 7 }, async (f) => {
      const lines: string[] = [];
      const first = engineFor(f, lines);
      try {
        const shard = await first.loadShard(whole(f));
        const choice = shard.choice!;
        assert.equal(first.probes, 1);
        assert.equal(choice.cached, false);
        assert.deepEqual(choice.candidates.map((c) => [c.provider, c.dtype, c.out]), [
          ["cpu", "q4", null],
          ["webgpu", "q4", null],
        ]);
        const fastest = Math.min(...choice.candidates.map(turnSeconds));
        const chosen = choice.candidates.find((c) => c.provider === choice.provider)!;
        assert.equal(turnSeconds(chosen), fastest, JSON.stringify(choice.candidates));
        assert.equal(shard.activeProvider, choice.provider);
        assert.equal(shard.dtype, "q4");
        assert.equal(shard.cacheHit, true, "the probe's graph of the whole shard is kept");
        const line = new RegExp(
          `^auto: cpu q4 ${FIGURES}, webgpu q4 ${FIGURES} → ${choice.provider} \\(layers 0\\.\\.1 timed\\)$`,
        );
        assert.ok(lines.some((l) => line.test(l)), lines.join("\n"));
        const logits = logitsOf(await first.step("r", { tokenIds: PROMPT }));
        assertClose(logits, lastLogits(f, PROMPT), Q4_TOLERANCE, "the chosen shard's prompt");
      } finally {
        await first.dispose();
      }

      lines.length = 0;
      const restarted = engineFor(f, lines);
      try {
        const shard = await restarted.loadShard(whole(f));
        assert.equal(restarted.probes, 0, lines.join("\n"));
        assert.equal(shard.choice?.cached, true);
        assert.equal(shard.activeProvider, shard.choice?.provider);
        assert.ok(
          lines.some((l) => / and kept; --reprobe measures again\)$/.test(l)),
          lines.join("\n"),
        );
        // Another shard of the model is another decision.
        await restarted.loadShard(whole(f, { endLayer: 0 }));
        assert.equal(restarted.probes, 1);
      } finally {
        await restarted.dispose();
      }

      const reprobing = engineFor(f, [], { auto: { reprobe: true } });
      try {
        assert.equal((await reprobing.loadShard(whole(f))).choice?.cached, false);
        assert.equal(reprobing.probes, 1);
        await reprobing.loadShard(whole(f, { endLayer: 0 }));
        await reprobing.loadShard(whole(f));
        assert.equal(reprobing.probes, 2, "--reprobe measures what was kept before it started");
      } finally {
        await reprobing.dispose();
      }
      const left = [...Deno.readDirSync(`${f.root}/cache`)].filter((e) => e.name.startsWith("."));
      assert.deepEqual(left, [], "no probe scratch directory is left");
    });
  },
));

Deno.test(webgpuTest(
  "auto refuses a WebGPU candidate whose outputs differ from the CPU's, saying why",
  async () => {
    await withCheckpoint({ architecture: "llama", numLayers: 2, seed: 7 }, async (f) => {
      const lines: string[] = [];
      const engine = engineFor(f, lines, {
        auto: { probe: { perturbWeights: { provider: "webgpu", factor: 1.5 } } },
      });
      try {
        const shard = await engine.loadShard(whole(f));
        assert.equal(shard.activeProvider, "cpu");
        const webgpu = shard.choice!.candidates.find((c) => c.provider === "webgpu")!;
        assert.match(
          webgpu.out!,
          /^its outputs differ from the CPU's by [\d.]+ \(tolerance 0\.4\)$/,
        );
        assert.equal(webgpu.decodeTokensPerSecond, null);
        assert.ok(
          lines.some((l) => l.includes("webgpu q4 out (its outputs differ from the CPU's by")),
          lines.join("\n"),
        );
        assertClose(
          logitsOf(await engine.step("r", { tokenIds: PROMPT })),
          lastLogits(f, PROMPT),
          Q4_TOLERANCE,
          "the CPU's shard",
        );
      } finally {
        await engine.dispose();
      }
    });
  },
));

Deno.test("auto on a machine without a WebGPU adapter picks the CPU, and forgets a kept WebGPU choice", async () => {
  await withCheckpoint({ architecture: "llama", numLayers: 2, seed: 7 }, async (f) => {
    type Got = {
      activeProvider: string;
      choice: ProviderChoice;
      logits: number[];
      warnings: string[];
    };
    const decisions = `${f.root}/choices`;
    const run = async () =>
      await runWithoutWebgpu(
        "_auto_no_webgpu_child.ts",
        [f.dir, `${f.root}/cache`, decisions],
        f.root,
      ) as Got;
    const got = await run();
    assert.equal(got.activeProvider, "cpu");
    assert.equal(got.choice.provider, "cpu");
    const webgpu = got.choice.candidates.find((c) => c.provider === "webgpu")!;
    assert.match(webgpu.out!, /no WebGPU adapter|not in this onnxruntime-node build/);
    assertClose(got.logits, lastLogits(f, PROMPT), Q4_TOLERANCE, "prompt");

    // A choice kept on this machine when it had a GPU: the node runs on the CPU and says so.
    const [file] = [...Deno.readDirSync(decisions)].map((e) => `${decisions}/${e.name}`);
    const kept = JSON.parse(await Deno.readTextFile(file));
    kept.decision.provider = "webgpu";
    kept.decision.candidates = [{
      ...webgpu,
      decodeTokensPerSecond: 1,
      prefillTokensPerSecond: 1,
      out: null,
    }];
    await Deno.writeTextFile(file, JSON.stringify(kept));
    const stale = await run();
    assert.equal(stale.activeProvider, "cpu");
    assert.deepEqual([stale.choice.provider, stale.choice.cached], ["webgpu", true]);
    assert.ok(
      stale.warnings.some((w) =>
        /^auto: webgpu did not load \(.*\); running on cpu, and the next start measures again$/
          .test(w)
      ),
      stale.warnings.join("\n"),
    );
    assert.deepEqual([...Deno.readDirSync(decisions)], [], "the stale choice is forgotten");
    assertClose(stale.logits, lastLogits(f, PROMPT), Q4_TOLERANCE, "prompt on the fallback");
  });
});
