// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Cluster benchmark: the same random-weight model in a real shape served by 1, 2 and 3
 * local exo-node processes, driven through the OpenAI API with the official client.
 * For each shape it starts a cluster of every size, warms each up with one short request
 * (shards loaded, graphs converted or read from the cache), then measures one streamed
 * request of --tokens tokens at temperature 0 (decode tokens/s, time to first token) --runs
 * times, going through the sizes in turn each round so that the sizes are compared within
 * a round (the ratio to one node is the median of those paired ratios; the median run by
 * decode speed is kept for the other figures), and then the aggregate tokens/s of 1, 4 and
 * 8 concurrent streamed requests. Before each measurement it waits up to --quiet-wait
 * seconds for the machine to be idle, since other work skews everything.
 *
 *   deno task bench:cluster [--shape smollm2-135m-like,llama-3.2-1b] [--dtype q4]
 *     [--nodes 1,2,3] [--concurrency 1,4,8] [--tokens 128] [--runs 5] [--quiet-wait 20]
 *     [--cache-dir DIR] [--node-args="--compute-lock none"]
 *     [--json out.json] [--baseline old.json]
 *
 * All nodes of one machine share its cores, so a cluster cannot be faster than one node
 * here: the figures show what splitting costs, not what it gains.
 * @module
 */
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { parseOrExit } from "./_usage.ts";
import {
  DTYPES,
  listOf,
  median,
  positive,
  type Shape,
  SHAPES,
  table,
  writeReport,
} from "./_bench_util.ts";
import { LocalCluster, type LocalNode } from "./_cluster_procs.ts";
import { streamChat, type StreamChatResult } from "./_stream_chat.ts";
import { ensureRandomCheckpoint, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";
import { ShardRunner } from "../lib/inference/shard_runner.ts";
import { defaultDType } from "../lib/inference/engine.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { loadModelConfig } from "../lib/model/mod.ts";

/** Equal memory for every node, so the ring split is even. */
const NODE_MEMORY_MB = 8192;
const WARMUP_TOKENS = 8;
const WARMUP_ATTEMPTS = 3;
const QUIET_SAMPLE_MS = 500;
const QUIET_CORES = 0.25;
const DECODE_TARGET = 0.95;
const CONCURRENCY_TARGET = 1.5;
const CONCURRENCY_TARGET_AT = 4;
const CONCURRENCY_TARGET_NODES = 2;

/** One streamed request's figures. */
interface SingleRun {
  tokens: number;
  promptTokens: number;
  finishReason: string | null;
  timeToFirstTokenMs: number;
  decodeTokensPerSecond: number;
  /** 1000 / decode tokens/s. */
  msPerToken: number;
  /** CPU time of all node processes during the request, in % of one core (Linux only). */
  nodeCpuPercent: number | null;
  /**
   * CPU time of everything else on the machine (this script included) during the request,
   * in % of one core (Linux only): above a few % the figures are disturbed.
   */
  otherCpuPercent: number | null;
}

/** Several concurrent streamed requests' figures. */
interface ConcurrentRun {
  concurrency: number;
  tokens: number;
  wallMs: number;
  /** All requests' completion tokens / wall time from the first start to the last finish. */
  aggregateTokensPerSecond: number;
  meanTimeToFirstTokenMs: number;
}

/** One (shape, node count) configuration, as written to --json. */
interface ClusterResult {
  shape: Shape;
  dtype: string;
  nodes: number;
  split: string;
  /** The median single run by decode speed. */
  single: SingleRun;
  /** Decode tokens/s of every single run, in round order. */
  singleRunsTokensPerSecond: number[];
  /**
   * Median over rounds of this size's decode speed over one node's in the same round (null
   * without a 1-node cluster): paired rounds cancel the drift of a shared machine.
   */
  vsOneNode: number | null;
  concurrent: ConcurrentRun[];
}

interface Options {
  shapes: Shape[];
  dtype: string | undefined;
  nodes: number[];
  concurrency: number[];
  tokens: number;
  runs: number;
  /** Most seconds to wait for a quiet machine before each measurement (0: do not wait). */
  quietWait: number;
  cacheDir: string;
  /** Extra flags for every node, e.g. ["--compute-lock", "none"] to compare a setting. */
  nodeArgs: string[];
  json: string | undefined;
  baseline: string | undefined;
}

// ---- measuring ----

/** utime + stime of a process in ms, from /proc; null elsewhere. */
function cpuMs(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** CPU time all processes of the machine spent busy, in ms summed over cores; null off Linux. */
function machineBusyMs(): number | null {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    // cpu user nice system idle iowait irq softirq steal ...
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/)
      .slice(1).map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) * 10;
  } catch {
    return null;
  }
}

/**
 * Waits until the machine is quiet (everything together below a quarter of a core over half
 * a second), at most `seconds`: other work on a shared machine distorts every figure.
 */
async function waitQuiet(seconds: number): Promise<void> {
  if (seconds <= 0) return;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const before = machineBusyMs();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, QUIET_SAMPLE_MS));
    const after = machineBusyMs();
    if (before === null || after === null) return;
    if ((after - before) / (performance.now() - t0) < QUIET_CORES) return;
  }
  log(`  note: the machine stayed busy for ${seconds} s; measuring anyway`);
}

function clusterCpuMs(nodes: LocalNode[]): number | null {
  let total = 0;
  for (const node of nodes) {
    const ms = cpuMs(node.pid);
    if (ms === null) return null;
    total += ms;
  }
  return total;
}

/** Prompts that differ per request, so concurrent requests share nothing. */
function prompt(index: number): string {
  return `Request ${index}: write a long essay about the history of computing machines, ` +
    "from the abacus to the cluster of small computers on a desk.";
}

async function single(
  client: OpenAI,
  cluster: LocalCluster,
  model: string,
  tokens: number,
): Promise<{ run: SingleRun; result: StreamChatResult }> {
  const busyBefore = machineBusyMs();
  const cpuBefore = clusterCpuMs(cluster.nodes);
  const result = await streamChat(client, {
    model,
    prompt: prompt(0),
    maxTokens: tokens,
    temperature: 0,
  });
  const cpuAfter = clusterCpuMs(cluster.nodes);
  const busyAfter = machineBusyMs();
  const nodeCpuPercent = cpuBefore === null || cpuAfter === null
    ? null
    : (cpuAfter - cpuBefore) / result.totalMs * 100;
  const otherCpuPercent = nodeCpuPercent === null || busyBefore === null || busyAfter === null
    ? null
    : Math.max(0, (busyAfter - busyBefore) / result.totalMs * 100 - nodeCpuPercent);
  return {
    result,
    run: {
      tokens: result.completionTokens,
      promptTokens: result.promptTokens,
      finishReason: result.finishReason,
      timeToFirstTokenMs: result.timeToFirstTokenMs,
      decodeTokensPerSecond: result.decodeTokensPerSecond,
      msPerToken: 1000 / result.decodeTokensPerSecond,
      nodeCpuPercent,
      otherCpuPercent,
    },
  };
}

function aggregateOf(concurrency: number, results: StreamChatResult[]): ConcurrentRun {
  const start = Math.min(...results.map((r) => r.startedAt));
  const end = Math.max(...results.map((r) => r.finishedAt));
  const tokens = results.reduce((sum, r) => sum + r.completionTokens, 0);
  return {
    concurrency,
    tokens,
    wallMs: end - start,
    aggregateTokensPerSecond: tokens / ((end - start) / 1000),
    meanTimeToFirstTokenMs: results.reduce((sum, r) => sum + r.timeToFirstTokenMs, 0) /
      results.length,
  };
}

async function concurrent(
  client: OpenAI,
  model: string,
  tokens: number,
  concurrency: number,
): Promise<ConcurrentRun> {
  const results = await Promise.all(
    Array.from(
      { length: concurrency },
      (_, i) =>
        streamChat(client, { model, prompt: prompt(i + 1), maxTokens: tokens, temperature: 0 }),
    ),
  );
  return aggregateOf(concurrency, results);
}

/**
 * Converts every shard of the split into the nodes' shard cache from this process, so the
 * nodes only load cached graphs. A node converting a big shard itself blocks its event loop
 * longer than the peers' silence timeout (4 s): it is dropped, the request ends, and with
 * llama-3.2-1b halves the conversion never finished in three attempts.
 */
async function convertShards(
  modelDir: string,
  shards: { start_layer: number; end_layer: number }[],
  options: Options,
): Promise<void> {
  const config = await loadModelConfig(modelDir);
  for (const shard of shards) {
    const started = performance.now();
    const runner = await ShardRunner.load({
      modelDir,
      config,
      startLayer: shard.start_layer,
      endLayer: shard.end_layer,
      cacheDir: `${options.cacheDir}/cluster-shards`,
      dtype: (options.dtype as ShardDType | undefined) ?? defaultDType("cpu"),
      executionProvider: "cpu",
      threads: 1,
    });
    const hit = runner.cacheHit;
    await runner.dispose();
    if (!hit) {
      log(
        `  converted layers ${shard.start_layer}..${shard.end_layer} into the shard cache in ` +
          secs(performance.now() - started),
      );
    }
  }
}

/**
 * One short request, so every node has loaded its shard. Retried: converting a shard that is
 * not in the cache yet blocks a node long enough for its peers to drop it as silent (the
 * converted graph is cached by then, so the next attempt only loads it).
 */
async function warmUp(
  client: OpenAI,
  cluster: LocalCluster,
  model: string,
  label: string,
): Promise<void> {
  const started = performance.now();
  for (let attempt = 1;; attempt++) {
    try {
      await streamChat(client, { model, prompt: prompt(0), maxTokens: WARMUP_TOKENS });
      log(`  ${label}: warm-up ${secs(performance.now() - started)}`);
      return;
    } catch (error) {
      if (attempt >= WARMUP_ATTEMPTS) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      log(`  ${label}: warm-up attempt ${attempt} failed (${reason}); retrying`);
      await cluster.ready();
    }
  }
}

/** A started cluster of one size, warmed up, with its measurements so far. */
interface Measured {
  nodeCount: number;
  cluster: LocalCluster;
  client: OpenAI;
  split: string;
  singles: { run: SingleRun; result: StreamChatResult }[];
}

async function startCluster(
  modelDir: string,
  nodeCount: number,
  options: Options,
): Promise<Measured> {
  const ids = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const cluster = await LocalCluster.start({
    ids,
    modelDir,
    dtype: options.dtype,
    cacheDir: `${options.cacheDir}/cluster-shards`,
    memoryMb: NODE_MEMORY_MB,
    args: options.nodeArgs,
  });
  running.push(cluster);
  await cluster.ready();
  const shards = await cluster.partition();
  const split = shards.map((s) => `${s.node_id}[${s.start_layer}..${s.end_layer}]`).join(" ");
  await convertShards(modelDir, shards, options);
  const client = new OpenAI({
    baseURL: `${cluster.entry.url}/v1`,
    apiKey: "not-needed",
    maxRetries: 0,
    timeout: 30 * 60_000,
  });
  await warmUp(client, cluster, modelDir, `${nodeCount} node(s) ${split}`);
  return { nodeCount, cluster, client, split, singles: [] };
}

/**
 * Every cluster size of one shape is started and warmed up first; then the single requests
 * go through the sizes in turn, round after round, so a drift of this shared machine touches
 * every size alike and each round pairs the sizes up; then the concurrent runs.
 */
async function benchShape(
  shape: Shape,
  modelDir: string,
  options: Options,
): Promise<ClusterResult[]> {
  const clusters: Measured[] = [];
  try {
    for (const n of options.nodes) clusters.push(await startCluster(modelDir, n, options));
    for (let round = 0; round < options.runs; round++) {
      for (const c of clusters) {
        await waitQuiet(options.quietWait);
        c.singles.push(await single(c.client, c.cluster, modelDir, options.tokens));
      }
    }
    const one = clusters.find((c) => c.nodeCount === 1);
    const results: ClusterResult[] = [];
    for (const c of clusters) results.push(await finish(shape, modelDir, c, one, options));
    return results;
  } catch (error) {
    for (const c of clusters) console.error(c.cluster.logTail());
    throw error;
  } finally {
    await Promise.all(clusters.map((c) => c.cluster.stop()));
    running = running.filter((cluster) => !clusters.some((c) => c.cluster === cluster));
  }
}

/** The median single run of a cluster, its paired ratio to one node, and its concurrent runs. */
async function finish(
  shape: Shape,
  modelDir: string,
  measured: Measured,
  one: Measured | undefined,
  options: Options,
): Promise<ClusterResult> {
  const { nodeCount, client, split } = measured;
  const speeds = measured.singles.map((s) => s.run.decodeTokensPerSecond);
  const vsOneNode = one === undefined
    ? null
    : median(speeds.map((speed, i) => speed / one.singles[i].run.decodeTokensPerSecond));
  // The median run by decode speed stands for the configuration.
  const sorted = [...measured.singles].sort((a, b) =>
    a.run.decodeTokensPerSecond - b.run.decodeTokensPerSecond
  );
  const { run, result } = sorted[(sorted.length - 1) >> 1];
  log(`${nodeCount} node(s) ${split}:`);
  if (options.runs > 1) {
    log(
      `  single runs (in round order): ${
        speeds.map((s) => fixed(s)).join(", ")
      } tok/s; median kept`,
    );
  }
  log(
    `  single: ${run.tokens} tokens, ${fixed(run.decodeTokensPerSecond)} tok/s, ` +
      `TTFT ${fixed(run.timeToFirstTokenMs, 0)} ms` +
      (run.nodeCpuPercent === null ? "" : `, nodes' CPU ${fixed(run.nodeCpuPercent, 0)}%`) +
      (run.otherCpuPercent === null ? "" : `, other CPU ${fixed(run.otherCpuPercent, 0)}%`),
  );
  if (run.tokens < options.tokens) {
    log(
      `  note: the model ended after ${run.tokens} of ${options.tokens} tokens (${run.finishReason}); figures use the tokens actually generated`,
    );
  }
  const runs: ConcurrentRun[] = [];
  for (const c of options.concurrency) {
    // The single request above is the concurrency-1 run.
    const figures = c === 1
      ? aggregateOf(1, [result])
      : await waitQuiet(options.quietWait).then(() =>
        concurrent(client, modelDir, options.tokens, c)
      );
    log(
      `  ${c} concurrent: ${figures.tokens} tokens in ${secs(figures.wallMs)}, ` +
        `${fixed(figures.aggregateTokensPerSecond)} tok/s aggregate`,
    );
    runs.push(figures);
  }
  return {
    shape,
    dtype: options.dtype ?? "default",
    nodes: nodeCount,
    split,
    single: run,
    singleRunsTokensPerSecond: speeds,
    vsOneNode,
    concurrent: runs,
  };
}

/** The clusters being measured, stopped on Ctrl-C or SIGTERM. */
let running: LocalCluster[] = [];

function stopOnSignals(): void {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const name of signals) {
    Deno.addSignalListener(name, () => {
      log(`\nbench:cluster: ${name}, stopping the nodes`);
      Promise.all(running.map((cluster) => cluster.stop())).finally(() => Deno.exit(130));
    });
  }
}

// ---- printing ----

function log(line: string): void {
  console.log(line);
}

function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function find(results: ClusterResult[], shape: Shape, nodes: number): ClusterResult | undefined {
  return results.find((r) => r.shape === shape && r.nodes === nodes);
}

function aggregate(result: ClusterResult | undefined, concurrency: number): number | undefined {
  return result?.concurrent.find((c) => c.concurrency === concurrency)?.aggregateTokensPerSecond;
}

/** (ms/token with n nodes - ms/token with 1 node) / n: a lap over n nodes crosses n links. */
function perHopMs(results: ClusterResult[], r: ClusterResult): number | undefined {
  const one = find(results, r.shape, 1);
  if (!one || r.nodes < 2) return undefined;
  return (r.single.msPerToken - one.single.msPerToken) / r.nodes;
}

function printResults(
  results: ClusterResult[],
  options: Options,
  baseline: ClusterResult[] | null,
): void {
  const cs = options.concurrency;
  console.log(
    `\nSingle request: ${options.tokens} tokens asked at temperature 0; decode tok/s = ` +
      "(tokens - 1) / (finish - first token), from the client",
  );
  console.log(
    "per-hop ms = (ms/token with n nodes - ms/token with 1 node) / n: one token's lap over n " +
      "nodes crosses n links (n-1 hidden states, then the sampled token back to the first shard)",
  );
  console.log(
    "nodes' CPU % / other CPU % = CPU time of the node processes / of everything else during " +
      "the single request, in % of one core (other CPU above a few % means a disturbed run)",
  );
  console.log(table(
    [
      "shape",
      "dtype",
      "nodes",
      "tokens",
      "decode tok/s",
      "vs 1 node",
      "ms/token",
      "per-hop ms",
      "TTFT ms",
      "nodes' CPU %",
      "other CPU %",
      ...cs.map((c) => `${c}x agg tok/s`),
    ],
    results.map((r) => {
      const hop = perHopMs(results, r);
      return [
        r.shape,
        r.dtype,
        String(r.nodes),
        String(r.single.tokens),
        fixed(r.single.decodeTokensPerSecond),
        r.vsOneNode === null ? "" : `${fixed(r.vsOneNode, 2)}x`,
        fixed(r.single.msPerToken, 2),
        hop === undefined ? "" : fixed(hop, 2),
        fixed(r.single.timeToFirstTokenMs, 0),
        r.single.nodeCpuPercent === null ? "n/a" : fixed(r.single.nodeCpuPercent, 0),
        r.single.otherCpuPercent === null ? "n/a" : fixed(r.single.otherCpuPercent, 0),
        ...cs.map((c) => {
          const a = aggregate(r, c);
          return a === undefined ? "" : fixed(a);
        }),
      ];
    }),
  ));
  printTargets(results);
  if (baseline) printBaseline(results, baseline, cs);
}

function printTargets(results: ClusterResult[]): void {
  console.log("\nTargets");
  const shapes = [...new Set(results.map((r) => r.shape))];
  for (const shape of shapes) {
    const one = find(results, shape, 1);
    for (const n of [2, 3]) {
      const r = find(results, shape, n);
      if (!one || !r || r.vsOneNode === null) continue;
      const ratio = r.vsOneNode;
      console.log(
        `  ${ratio >= DECODE_TARGET ? "PASS" : "FAIL"} ${shape}: ${n}-node single-request decode ` +
          `${fixed(r.single.decodeTokensPerSecond)} tok/s, ${fixed(ratio * 100, 0)}% of 1 node ` +
          `(target >= ${DECODE_TARGET * 100}%)`,
      );
    }
    const two = find(results, shape, CONCURRENCY_TARGET_NODES);
    const base = aggregate(two, 1);
    const many = aggregate(two, CONCURRENCY_TARGET_AT);
    if (base !== undefined && many !== undefined) {
      const ratio = many / base;
      console.log(
        `  ${ratio >= CONCURRENCY_TARGET ? "PASS" : "FAIL"} ${shape}: ${CONCURRENCY_TARGET_AT} ` +
          `concurrent requests on ${CONCURRENCY_TARGET_NODES} nodes ${fixed(many)} tok/s = ` +
          `${fixed(ratio, 2)}x the single-request aggregate ${fixed(base)} tok/s ` +
          `(target >= ${CONCURRENCY_TARGET}x)`,
      );
    }
  }
}

function printBaseline(results: ClusterResult[], baseline: ClusterResult[], cs: number[]): void {
  const ratio = (now: number | undefined, before: number | undefined) =>
    now === undefined || before === undefined || before === 0
      ? "n/a"
      : `${fixed(now / before, 2)}x`;
  console.log("\nRatio to baseline (now / before; above 1 is faster, for TTFT above 1 is slower)");
  console.log(table(
    ["shape", "nodes", "decode", "TTFT", ...cs.map((c) => `${c}x agg`)],
    results.map((r) => {
      const b = baseline.find((x) => x.shape === r.shape && x.nodes === r.nodes);
      return [
        r.shape,
        String(r.nodes),
        ratio(r.single.decodeTokensPerSecond, b?.single.decodeTokensPerSecond),
        ratio(r.single.timeToFirstTokenMs, b?.single.timeToFirstTokenMs),
        ...cs.map((c) => ratio(aggregate(r, c), b ? aggregate(b, c) : undefined)),
      ];
    }),
  ));
}

async function writeJson(path: string, options: Options, results: ClusterResult[]): Promise<void> {
  await writeReport(path, {
    options: {
      shapes: options.shapes,
      dtype: options.dtype ?? "default",
      nodes: options.nodes,
      concurrency: options.concurrency,
      tokens: options.tokens,
      runs: options.runs,
      nodeArgs: options.nodeArgs,
    },
    results,
  });
}

// ---- options ----

function nonNegative(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`Cannot benchmark: --${name} must be a number >= 0, got ${value}`);
  }
  return n;
}

function positives(value: string, name: string): number[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new RangeError(`Cannot benchmark: --${name} lists nothing`);
  return [...new Set(items.map((s) => positive(s, name)))].sort((a, b) => a - b);
}

const USAGE = "usage: deno task bench:cluster [--shape smollm2-135m-like,llama-3.2-1b] " +
  "[--dtype float32|float16|q4] [--nodes 1,2,3] [--concurrency 1,4,8] [--tokens 128] " +
  '[--runs 5] [--quiet-wait 20] [--node-args="--flag value ..."] ' +
  "[--cache-dir DIR] [--json out.json] [--baseline old.json]";

function parseOptions(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shape: { type: "string", default: SHAPES.join(",") },
      dtype: { type: "string" },
      nodes: { type: "string", default: "1,2,3" },
      concurrency: { type: "string", default: "1,4,8" },
      tokens: { type: "string", default: "128" },
      runs: { type: "string", default: "5" },
      "quiet-wait": { type: "string", default: "20" },
      "cache-dir": { type: "string" },
      "node-args": { type: "string", default: "" },
      json: { type: "string" },
      baseline: { type: "string" },
    },
  });
  if (values.dtype !== undefined) listOf(values.dtype, DTYPES, "dtype");
  return {
    shapes: listOf(values.shape, SHAPES, "shape"),
    dtype: values.dtype,
    nodes: positives(values.nodes, "nodes"),
    concurrency: positives(values.concurrency, "concurrency"),
    tokens: positive(values.tokens, "tokens"),
    runs: positive(values.runs, "runs"),
    quietWait: nonNegative(values["quiet-wait"], "quiet-wait"),
    cacheDir: values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench`,
    nodeArgs: values["node-args"].split(/\s+/).filter((arg) => arg !== ""),
    json: values.json,
    baseline: values.baseline,
  };
}

async function main(): Promise<void> {
  const options = parseOrExit("bench:cluster", USAGE, parseOptions);
  stopOnSignals();
  const baseline = options.baseline
    ? (JSON.parse(await Deno.readTextFile(options.baseline)).results as ClusterResult[])
    : null;
  log(
    `bench:cluster: ${options.shapes.join(",")}, dtype ${options.dtype ?? "node default"}, ` +
      `nodes ${options.nodes.join(",")}, concurrency ${options.concurrency.join(",")}, ` +
      `${options.tokens} tokens, ${options.runs} run(s), cache ${options.cacheDir}` +
      (options.nodeArgs.length > 0 ? `, node flags ${options.nodeArgs.join(" ")}` : ""),
  );
  log(
    `Machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cpus shared by all nodes; ` +
      "figures are noisy, compare back to back",
  );
  const results: ClusterResult[] = [];
  for (const shape of options.shapes) {
    const started = performance.now();
    const checkpoint = await ensureRandomCheckpoint(
      `${options.cacheDir}/checkpoints/${shape}`,
      realShapeSpecs[shape],
    );
    log(`${shape}: checkpoint ready in ${secs(performance.now() - started)}`);
    results.push(...await benchShape(shape, checkpoint.dir, options));
    if (options.json) await writeJson(options.json, options, results);
  }
  printResults(results, options, baseline);
  if (options.json) log(`\nWrote ${options.json}`);
}

if (import.meta.main) await main();
