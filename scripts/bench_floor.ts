// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * The pipeline floor: what the process boundary alone costs on this machine, below anything
 * exo-node adds. The model is split as bench:cluster splits it, but each part runs in a bare
 * process that holds only a ShardRunner (the same graphs and session options as a node) and
 * passes hidden states and tokens on over a plain loopback TCP socket with an 8-byte header:
 * no HTTP, no protocol checks, no compute turn, greedy argmax. The same splits also run as
 * shards of one process, which shows that splitting the layers costs no compute by itself.
 * Every configuration stays loaded and the rounds go through them in turn, so a drift of
 * the machine touches them all alike.
 *
 *   deno task bench:floor [--shape smollm2-135m-like] [--dtype q4] [--processes 1,2,3]
 *     [--tokens 128] [--rounds 7] [--cache-dir DIR] [--json out.json] [--baseline old.json]
 *
 * bench:cluster's decode figures cannot beat these: where the floor's N processes already
 * run below a target share of one process, nodes on this machine cannot reach it either.
 * @module
 */
import { parseArgs } from "node:util";
import { parseOrExit } from "./_usage.ts";
import {
  DTYPES,
  listOf,
  median,
  positive,
  promptTokens,
  readExactly,
  type Shape,
  SHAPES,
  table,
  writeAll,
  writeReport,
} from "./_bench_util.ts";
import { ensureRandomCheckpoint, realShapeSpecs } from "../tests/fixtures/make_checkpoint.ts";
import { freePort } from "../tests/_helpers/free_port.ts";
import { ShardRunner } from "../lib/inference/shard_runner.ts";
import type { ShardInput, ShardOutput } from "../lib/inference/shard_input.ts";
import { readLines } from "./_cluster_procs.ts";
import { argmax } from "../lib/inference/sampler/sample.ts";
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import { loadModelConfig } from "../lib/model/mod.ts";
import { partitionLayers } from "../lib/topology/partition.ts";

const SCRIPT = new URL(import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const PROMPT_TOKENS = 16;
const HEADER_BYTES = 8;
const CONNECT_ATTEMPTS = 600;
const CONNECT_RETRY_MS = 50;

// ---- a process of the pipeline ----

/** What one child process runs, passed as JSON on its command line. */
interface ChildSpec {
  modelDir: string;
  cacheDir: string;
  dtype: ShardDType;
  /** Consecutive layer ranges this process runs one after the other. */
  ranges: [number, number][];
  /** Whether this process holds the first shard: it drives the rounds from stdin. */
  first: boolean;
  /** Port this process listens on for the previous process; null when it is alone. */
  listenPort: number | null;
  /** Port of the next process; null when it is alone. */
  nextPort: number | null;
}

/** Header: the number of hidden rows (0 for a token), then the request number or token. */
async function sendFrame(conn: Deno.Conn, rows: number, value: number, body?: Float32Array) {
  const frame = new Uint8Array(HEADER_BYTES + (body?.byteLength ?? 0));
  const view = new DataView(frame.buffer);
  view.setUint32(0, rows, true);
  view.setUint32(4, value, true);
  if (body) frame.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), HEADER_BYTES);
  await writeAll(conn, frame);
}

async function connectWithRetry(port: number): Promise<Deno.TcpConn> {
  for (let attempt = 1;; attempt++) {
    try {
      return await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused) || attempt >= CONNECT_ATTEMPTS) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
    }
  }
}

/** Runs `input` through the runners in order: one step of this process's layers. */
async function stepAll(
  runners: ShardRunner[],
  requestId: string,
  input: ShardInput,
): Promise<ShardOutput> {
  let current = input;
  let output: ShardOutput | null = null;
  for (const runner of runners) {
    output = await runner.step(requestId, current);
    if (output.kind === "hidden") current = { hidden: output.hidden, seq: output.seq };
  }
  return output!;
}

async function runChild(spec: ChildSpec): Promise<void> {
  const listener = spec.listenPort === null
    ? null
    : Deno.listen({ hostname: "127.0.0.1", port: spec.listenPort });
  const config = await loadModelConfig(spec.modelDir);
  const runners: ShardRunner[] = [];
  for (const [startLayer, endLayer] of spec.ranges) {
    runners.push(
      await ShardRunner.load({
        modelDir: spec.modelDir,
        config,
        startLayer,
        endLayer,
        cacheDir: spec.cacheDir,
        dtype: spec.dtype,
        executionProvider: "cpu",
      }),
    );
  }
  const next = spec.nextPort === null ? null : await connectWithRetry(spec.nextPort);
  const previous = listener === null ? null : await listener.accept();
  listener?.close();
  next?.setNoDelay(true);
  previous?.setNoDelay(true);
  console.log("ready");

  /** Sends this process's output on: hidden states to the next process, or the token. */
  const forward = (output: ShardOutput, request: number) =>
    output.kind === "logits"
      ? sendFrame(next!, 0, argmax(output.logits))
      : sendFrame(next!, output.seq, request, output.hidden);

  if (!spec.first) {
    // Relay: hidden states in from the previous process, on to the next one.
    const header = new Uint8Array(HEADER_BYTES);
    let current: number | null = null;
    while (await readExactly(previous!, header)) {
      const view = new DataView(header.buffer);
      const rows = view.getUint32(0, true);
      const request = view.getUint32(4, true);
      if (request !== current) {
        if (current !== null) { for (const runner of runners) runner.release(`r${current}`); }
        current = request;
      }
      const body = new Uint8Array(rows * config.hiddenSize * 4);
      if (!(await readExactly(previous!, body))) throw new Error("The ring closed mid-frame");
      const hidden = new Float32Array(body.buffer);
      await forward(await stepAll(runners, `r${request}`, { hidden, seq: rows }), request);
    }
  } else {
    // Driver: each stdin line "run COUNT ROUND" generates COUNT tokens, then prints when
    // each one was known.
    const header = new Uint8Array(HEADER_BYTES);
    for await (const line of readLines(Deno.stdin.readable)) {
      const [command, countText, roundText] = line.split(" ");
      if (command !== "run") throw new Error(`Unknown command ${JSON.stringify(line)}`);
      const count = Number(countText);
      const round = Number(roundText);
      const requestId = `r${round}`;
      let tokens = promptTokens(PROMPT_TOKENS, config.vocabSize, round);
      const tokenAt: number[] = [];
      for (let i = 0; i < count; i++) {
        const output = await stepAll(runners, requestId, { tokenIds: tokens });
        let token: number;
        if (output.kind === "logits") token = argmax(output.logits);
        else {
          await forward(output, round);
          if (!(await readExactly(previous!, header))) throw new Error("The ring closed");
          token = new DataView(header.buffer).getUint32(4, true);
        }
        tokenAt.push(performance.now());
        tokens = [token];
      }
      for (const runner of runners) runner.release(requestId);
      console.log(JSON.stringify({ tokenAt }));
    }
  }
  next?.close();
  previous?.close();
  for (const runner of runners) await runner.dispose();
}

// ---- the benchmark ----

/** One way of running the model: a list of processes, each with its layer ranges. */
interface Layout {
  name: string;
  processes: number;
  shards: number;
  ranges: [number, number][][];
}

/** One layout's figures, as written to --json. */
interface FloorResult {
  name: string;
  processes: number;
  shards: number;
  /** Decode tokens/s of each round: (tokens - 1) / (last token - first token). */
  roundTokensPerSecond: number[];
  decodeTokensPerSecond: number;
  msPerToken: number;
  /**
   * Median over rounds of this layout's tokens/s over one process's in the same round: the
   * rounds are paired, so a drift of the machine between rounds cancels out.
   */
  vsOneProcess: number;
}

/** The started processes of one layout; the first one drives. */
class RunningLayout {
  readonly layout: Layout;
  #children: Deno.ChildProcess[];
  #driverStdin: WritableStreamDefaultWriter<Uint8Array>;
  #driverLines: AsyncGenerator<string>;

  private constructor(layout: Layout, children: Deno.ChildProcess[]) {
    this.layout = layout;
    this.#children = children;
    this.#driverStdin = children[0].stdin.getWriter();
    this.#driverLines = readLines(children[0].stdout);
  }

  /** Starts the layout's processes; resolves once every one has loaded and connected. */
  static async start(
    layout: Layout,
    base: Omit<ChildSpec, "ranges" | "first" | "listenPort" | "nextPort">,
  ): Promise<RunningLayout> {
    const ports = layout.ranges.map(() => freePort());
    const alone = layout.ranges.length === 1;
    const children = layout.ranges.map((ranges, i) => {
      const spec: ChildSpec = {
        ...base,
        ranges,
        first: i === 0,
        listenPort: alone ? null : ports[i],
        nextPort: alone ? null : ports[(i + 1) % ports.length],
      };
      return new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--config", CONFIG, SCRIPT, "--child", JSON.stringify(spec)],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    });
    const running = new RunningLayout(layout, children);
    try {
      await Promise.all(children.map(async (child, i) => {
        const lines = i === 0 ? running.#driverLines : readLines(child.stdout);
        const { value, done } = await lines.next();
        if (done || value !== "ready") {
          throw new Error(`Process ${i} of "${layout.name}" did not start: ${value ?? "exited"}`);
        }
        // The relays print nothing more; their stdout is drained so they never block on it.
        if (i > 0) {
          (async () => {
            for await (const _ of lines);
          })();
        }
      }));
    } catch (error) {
      await running.stop();
      throw error;
    }
    return running;
  }

  /** Generates `count` tokens as request `round`; returns the decode tokens/s. */
  async run(count: number, round: number): Promise<number> {
    await this.#driverStdin.write(new TextEncoder().encode(`run ${count} ${round}\n`));
    const { value, done } = await this.#driverLines.next();
    if (done) throw new Error(`"${this.layout.name}" stopped during round ${round}`);
    const { tokenAt } = JSON.parse(value) as { tokenAt: number[] };
    return (tokenAt.length - 1) / ((tokenAt.at(-1)! - tokenAt[0]) / 1000);
  }

  /** Closes the driver's stdin, which ends the ring; kills whatever has not exited. */
  async stop(): Promise<void> {
    await this.#driverStdin.close().catch(() => {});
    const exits = this.#children.map((child) => child.status);
    const timer = setTimeout(() => {
      for (const child of this.#children) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already exited.
        }
      }
    }, STOP_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}

const STOP_GRACE_MS = 10_000;

function layouts(numLayers: number, processes: number[]): Layout[] {
  const split = (n: number): [number, number][] =>
    partitionLayers(
      Array.from({ length: n }, (_, i) => ({ nodeId: `p${i}`, memory: 1 })),
      numLayers,
    ).map((range) => [range.startLayer, range.endLayer]);
  const result: Layout[] = [];
  for (const n of processes) {
    const ranges = split(n);
    result.push({
      name: `${n} process(es)`,
      processes: n,
      shards: n,
      ranges: ranges.map((r) => [r]),
    });
    if (n > 1) {
      result.push({ name: `${n} shards, 1 process`, processes: 1, shards: n, ranges: [ranges] });
    }
  }
  return result;
}

interface Options {
  shape: Shape;
  dtype: ShardDType;
  processes: number[];
  tokens: number;
  rounds: number;
  cacheDir: string;
  json: string | undefined;
  baseline: string | undefined;
}

const USAGE = "usage: deno task bench:floor [--shape smollm2-135m-like|llama-3.2-1b] " +
  "[--dtype float32|float16|q4] [--processes 1,2,3] [--tokens 128] [--rounds 7] " +
  "[--cache-dir DIR] [--json out.json] [--baseline old.json]";

function parseOptions(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shape: { type: "string", default: "smollm2-135m-like" },
      dtype: { type: "string", default: "q4" },
      processes: { type: "string", default: "1,2,3" },
      tokens: { type: "string", default: "128" },
      rounds: { type: "string", default: "7" },
      "cache-dir": { type: "string" },
      json: { type: "string" },
      baseline: { type: "string" },
    },
  });
  const [shape, ...moreShapes] = listOf(values.shape, SHAPES, "shape");
  const [dtype, ...moreDtypes] = listOf(values.dtype, DTYPES, "dtype");
  if (moreShapes.length > 0 || moreDtypes.length > 0) {
    throw new RangeError("Cannot benchmark: give one --shape and one --dtype");
  }
  const processes = values.processes.split(",").map((s) => positive(s.trim(), "processes"));
  if (!processes.includes(1)) processes.unshift(1);
  const tokens = positive(values.tokens, "tokens");
  if (tokens < 2) throw new RangeError("Cannot benchmark: --tokens must be at least 2");
  return {
    shape,
    dtype,
    processes: [...new Set(processes)].sort((a, b) => a - b),
    tokens,
    rounds: positive(values.rounds, "rounds"),
    cacheDir: values["cache-dir"] ?? `${Deno.env.get("HOME")}/.cache/exo-node-bench`,
    json: values.json,
    baseline: values.baseline,
  };
}

function printResults(results: FloorResult[], options: Options, baseline: FloorResult[] | null) {
  const one = results.find((r) => r.processes === 1 && r.shards === 1)!;
  console.log(
    `\n${options.shape} ${options.dtype}, ${options.tokens} tokens after a ${PROMPT_TOKENS}-token prompt, ` +
      `median of ${options.rounds} round(s)\n` +
      "vs 1 process = median over rounds of the ratio to 1 process in the same round\n" +
      "per-hop ms = (ms/token - ms/token of 1 process) / processes (a lap crosses that many sockets)",
  );
  console.log(table(
    ["layout", "decode tok/s", "rounds", "vs 1 process", "ms/token", "per-hop ms"],
    results.map((r) => [
      r.name,
      r.decodeTokensPerSecond.toFixed(1),
      `${Math.min(...r.roundTokensPerSecond).toFixed(0)}-${
        Math.max(...r.roundTokensPerSecond).toFixed(0)
      }`,
      `${r.vsOneProcess.toFixed(2)}x`,
      r.msPerToken.toFixed(2),
      r.processes > 1 ? ((r.msPerToken - one.msPerToken) / r.processes).toFixed(2) : "",
    ]),
  ));
  console.log("\nFloor for bench:cluster's target (2- and 3-node decode >= 95% of 1 node):");
  for (const r of results.filter((r) => r.processes > 1)) {
    const share = r.vsOneProcess;
    console.log(
      `  ${r.processes} bare processes run at ${(share * 100).toFixed(0)}% of one: ` +
        (share >= 0.95
          ? "the target is within reach on this machine"
          : "nodes on this machine cannot reach 95%, whatever they add"),
    );
  }
  if (baseline === null) return;
  console.log("\nRatio to baseline (now / before; above 1 is faster)");
  for (const r of results) {
    const before = baseline.find((b) => b.name === r.name);
    if (before === undefined) continue;
    console.log(
      `  ${r.name}: ${(r.decodeTokensPerSecond / before.decodeTokensPerSecond).toFixed(2)}x`,
    );
  }
}

async function main(): Promise<void> {
  const childAt = Deno.args.indexOf("--child");
  if (childAt >= 0) return await runChild(JSON.parse(Deno.args[childAt + 1]) as ChildSpec);
  const options = parseOrExit("bench:floor", USAGE, parseOptions);
  const baseline = options.baseline
    ? (JSON.parse(await Deno.readTextFile(options.baseline)).results as FloorResult[])
    : null;
  const checkpoint = await ensureRandomCheckpoint(
    `${options.cacheDir}/checkpoints/${options.shape}`,
    realShapeSpecs[options.shape],
  );
  const base = {
    modelDir: checkpoint.dir,
    // The graphs bench:cluster converted: the splits are the same.
    cacheDir: `${options.cacheDir}/cluster-shards`,
    dtype: options.dtype,
  };
  const started: RunningLayout[] = [];
  const speeds = new Map<Layout, number[]>();
  try {
    for (const layout of layouts(checkpoint.config.numLayers, options.processes)) {
      console.log(
        `starting ${layout.name}: layers ${
          layout.ranges.map((p) => p.map(([a, b]) => `${a}..${b}`).join("+")).join(" | ")
        }`,
      );
      started.push(await RunningLayout.start(layout, base));
      speeds.set(layout, []);
    }
    // A warm-up round, then rounds that go through every layout in turn.
    for (let round = 0; round <= options.rounds; round++) {
      for (const running of started) {
        const tokensPerSecond = await running.run(options.tokens, round);
        if (round > 0) speeds.get(running.layout)!.push(tokensPerSecond);
      }
      console.log(
        round === 0
          ? "warm-up done"
          : `round ${round}: ${
            started.map((r) => speeds.get(r.layout)!.at(-1)!.toFixed(1)).join(", ")
          } tok/s`,
      );
    }
  } finally {
    await Promise.all(started.map((running) => running.stop()));
  }
  const oneProcess = speeds.get(started[0].layout)!;
  const results = started.map(({ layout }): FloorResult => {
    const rounds = speeds.get(layout)!;
    const tokensPerSecond = median(rounds);
    return {
      name: layout.name,
      processes: layout.processes,
      shards: layout.shards,
      roundTokensPerSecond: rounds,
      decodeTokensPerSecond: tokensPerSecond,
      msPerToken: 1000 / tokensPerSecond,
      vsOneProcess: median(rounds.map((speed, i) => speed / oneProcess[i])),
    };
  });
  printResults(results, options, baseline);
  if (options.json) {
    await writeReport(options.json, { options, results });
    console.log(`\nWrote ${options.json}`);
  }
}

if (import.meta.main) await main();
