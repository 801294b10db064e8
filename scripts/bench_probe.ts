// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Provider probe benchmark: what `--execution-provider auto` costs a node the first time
 * it loads a shard. In a fresh process it probes the shard (random weights in a real
 * model's shape) and loads the winner, and reports every candidate's figures, how long the
 * probe took, and the process's peak resident memory when the probe ended (before the
 * chosen shard loads) against the engine's target, 1.2 × the shard's weights + 300 MB.
 *
 *   deno run -A scripts/bench_probe.ts [--shape llama-3.2-1b] [--layers 8..15]
 *     [--dtype q4] [--threads 2] [--cache-dir ~/.cache/exo-node-bench-probe]
 *
 * The shard's graph is converted first in a process of its own (its size is the weights
 * figure), so the probing process converts only the probe's slices. Peak RSS is VmHWM from
 * /proc/self/status on Linux, else the resident size when read. On Mesa's lavapipe
 * (scripts/ci/webgpu_lavapipe.sh) WebGPU runs on the CPU: its figures say the probe works,
 * not how fast a GPU is.
 * @module
 */
import { parseArgs } from "node:util";
import { parseOrExit } from "./_usage.ts";
import { DTYPES, listOf, positive, type Shape, SHAPES } from "./_bench_util.ts";
import { ensureRandomCheckpoint, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";
import { OnnxEngine } from "../lib/inference/engine.ts";
import { describeChoice, type ProviderChoice } from "../lib/inference/provider_choice.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { Logger } from "../lib/log/logger.ts";

const MB = 1024 * 1024;
const RSS_WEIGHT_FACTOR = 1.2;
const RSS_SLACK_BYTES = 300 * MB;

const USAGE = "usage: deno run -A scripts/bench_probe.ts [--shape NAME] [--layers A..B] " +
  "[--dtype q4|float16|float32] [--threads N] [--cache-dir DIR]";

/** What one child process measured. */
interface ChildResult {
  /** VmHWM when the probe ended (auto) or after the load (convert), bytes. */
  peakRssBytes: number;
  /** VmHWM once the chosen shard was loaded, bytes. */
  loadedPeakRssBytes: number;
  probeMs: number;
  choice: ProviderChoice | null;
  activeProvider: string;
}

interface ChildArgs {
  mode: "convert" | "auto";
  modelDir: string;
  shardCache: string;
  startLayer: number;
  endLayer: number;
  dtype: ShardDType;
  threads: number;
}

function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: the resident size now is the best figure there is.
  }
  return Deno.memoryUsage().rss;
}

async function child(args: ChildArgs): Promise<ChildResult> {
  let probeEnded = 0;
  let peakAtProbeEnd = 0;
  const logger = new Logger("info", (line, _, message) => {
    if (message.includes("auto: ") && peakAtProbeEnd === 0) {
      peakAtProbeEnd = peakRss();
      probeEnded = performance.now();
    }
    console.error(line);
  });
  const decisions = await Deno.makeTempDir({ prefix: "bench-probe-choices-" });
  const engine = new OnnxEngine({
    cacheDir: args.shardCache,
    threads: args.threads,
    logger,
    auto: { decisions: { dir: decisions, machine: { chip: "bench", cores: 1 } } },
  });
  try {
    const started = performance.now();
    const shard = await engine.loadShard({
      modelDir: args.modelDir,
      startLayer: args.startLayer,
      endLayer: args.endLayer,
      dtype: args.dtype,
      executionProvider: args.mode === "auto" ? "auto" : "cpu",
    });
    const loaded = peakRss();
    return {
      peakRssBytes: args.mode === "auto" ? peakAtProbeEnd : loaded,
      loadedPeakRssBytes: loaded,
      probeMs: args.mode === "auto" ? probeEnded - started : 0,
      choice: shard.choice ?? null,
      activeProvider: shard.activeProvider,
    };
  } finally {
    await engine.dispose();
    await Deno.remove(decisions, { recursive: true });
  }
}

async function runChild(args: ChildArgs): Promise<ChildResult> {
  const config = new URL("../deno.json", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, import.meta.filename!, "--child", JSON.stringify(args)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`Cannot benchmark: the ${args.mode} process failed`);
  return JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory ? await directoryBytes(path) : (await Deno.stat(path)).size;
  }
  return total;
}

function layersOf(value: string, numLayers: number): [number, number] {
  const match = /^(\d+)\.\.(\d+)$/.exec(value);
  const range = match ? [Number(match[1]), Number(match[2])] as [number, number] : null;
  if (range === null || range[0] > range[1] || range[1] >= numLayers) {
    throw new RangeError(
      `Cannot benchmark: --layers ${value} is not a range within 0..${numLayers - 1}`,
    );
  }
  return range;
}

async function main(): Promise<void> {
  const { values } = parseOrExit("bench_probe", USAGE, () =>
    parseArgs({
      args: Deno.args,
      options: {
        child: { type: "string" },
        shape: { type: "string", default: "llama-3.2-1b" },
        layers: { type: "string" },
        dtype: { type: "string", default: "q4" },
        threads: { type: "string", default: "2" },
        "cache-dir": { type: "string" },
      },
    }));
  if (values.child !== undefined) {
    console.log(JSON.stringify(await child(JSON.parse(values.child))));
    return;
  }
  const shape: Shape = parseOrExit(
    "bench_probe",
    USAGE,
    () => listOf(values.shape, SHAPES, "shape")[0],
  );
  const dtype = parseOrExit("bench_probe", USAGE, () => listOf(values.dtype, DTYPES, "dtype")[0]);
  const threads = parseOrExit("bench_probe", USAGE, () => positive(values.threads, "threads"));
  const cacheDir = values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench-probe`;
  const checkpoint = await ensureRandomCheckpoint(
    `${cacheDir}/checkpoints/${shape}`,
    realShapeSpecs[shape],
  );
  const numLayers = checkpoint.config.numLayers;
  const [startLayer, endLayer] = parseOrExit(
    "bench_probe",
    USAGE,
    () => layersOf(values.layers ?? `0..${numLayers - 1}`, numLayers),
  );
  const shardCache = await Deno.makeTempDir({ dir: cacheDir, prefix: "shards-" });
  try {
    const args = { modelDir: checkpoint.dir, shardCache, startLayer, endLayer, dtype, threads };
    const converted = await runChild({ ...args, mode: "convert" });
    const weightBytes = await directoryBytes(shardCache);
    const auto = await runChild({ ...args, mode: "auto" });
    const target = RSS_WEIGHT_FACTOR * weightBytes + RSS_SLACK_BYTES;
    const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
    console.log(
      `\n${shape} layers ${startLayer}..${endLayer} of ${numLayers}, ${dtype}, ${threads} threads`,
    );
    if (auto.choice !== null) console.log(describeChoice(auto.choice));
    console.log(`probe: ${(auto.probeMs / 1000).toFixed(1)} s; chosen ${auto.activeProvider}`);
    console.log(`shard weights (graph files): ${mb(weightBytes)}; RSS target ${mb(target)}`);
    console.log(
      `peak RSS when the probe ended: ${mb(auto.peakRssBytes)} (${
        auto.peakRssBytes <= target ? "within" : "ABOVE"
      } the target); after the chosen shard loaded: ${mb(auto.loadedPeakRssBytes)}`,
    );
    console.log(
      `for comparison, converting and loading the shard alone: ${mb(converted.peakRssBytes)}`,
    );
  } finally {
    await Deno.remove(shardCache, { recursive: true });
  }
}

if (import.meta.main) await main();
