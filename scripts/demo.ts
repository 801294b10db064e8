// deno-lint-ignore-file no-console -- a demo talks to its user
/**
 * `deno task demo`: two exo-node processes on loopback serve one model together, and one
 * streamed chat completion goes through them with the official `openai` client. Works
 * offline: the model is a small random-weight Llama (with the real Llama 3 tokenizer)
 * written once into a cache folder, so the answer is gibberish but takes the real path,
 * layers 0..k on one node and the rest on the other.
 *
 * With `--serve` the two nodes stay up afterwards, the first one's web page and API on
 * `--port` (52415 by default, exo's), until Ctrl-C: open the page and chat with the demo
 * model, with no internet and no download.
 *
 *   deno task demo [--prompt TEXT] [--max-tokens 64] [--serve] [--port 52415]
 * @module
 */
import { parseArgs } from "node:util";
import { tmpdir } from "node:os";
import OpenAI from "openai";
import { parseOrExit } from "./_usage.ts";
import { LocalCluster } from "./_cluster_procs.ts";
import { streamChat } from "./_stream_chat.ts";
import { type CheckpointSpec, ensureRandomCheckpoint } from "../tests/fixtures/make_checkpoint.ts";

/** Small enough to write and convert in seconds; the vocabulary is Llama 3's own. */
const DEMO_MODEL: CheckpointSpec = {
  architecture: "llama",
  hiddenSize: 256,
  numLayers: 8,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 64,
  intermediateSize: 768,
  vocabSize: 128256,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 4096,
  dtype: "BF16",
  tokenizer: "llama3",
  seed: 2024,
};
const NODE_IDS = ["alpha", "beta"];
/** Sampled with a fixed seed: the same answer every run, and less repetitive than greedy. */
const TEMPERATURE = 0.8;
const SEED = 7;

const USAGE = "usage: deno task demo [--prompt TEXT] [--max-tokens N] [--serve] [--port PORT]";
/** The page's port with --serve: exo's API port, so the README's address works. */
const DEFAULT_PORT = 52415;
/** With --serve, what a page chat may generate (the answer is gibberish: short is enough). */
const SERVE_MAX_TOKENS = 256;

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      prompt: { type: "string", default: "Tell me a short story about two computers." },
      "max-tokens": { type: "string", default: "64" },
      serve: { type: "boolean", default: false },
      port: { type: "string", default: String(DEFAULT_PORT) },
    },
  });
  const maxTokens = Number(values["max-tokens"]);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(`--max-tokens must be a positive integer, got ${values["max-tokens"]}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`--port must be a port (1-65535), got ${values.port}`);
  }
  return { prompt: values.prompt, maxTokens, serve: values.serve, port };
}

/** Fails early, with what to do, when the page's port is taken (a node already running?). */
function checkPortFree(port: number): void {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Error(
      `Cannot serve the demo on port ${port}: it is in use (a node already running?); ` +
        "stop it or pick another port with --port",
    );
  }
}

/** `$XDG_CACHE_HOME/exo-node`, `~/.cache/exo-node`, else the OS temp dir. */
function cacheRoot(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/exo-node`;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home ? `${home}/.cache/exo-node` : `${tmpdir()}/exo-node-cache`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<number> {
  const options = parseOrExit("demo", USAGE, parseOptions);
  const cache = cacheRoot();
  const stopped = Promise.withResolvers<void>();
  let cluster: LocalCluster | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () =>
    stopping ??= (async () => {
      if (!cluster) return;
      console.log("\nStopping the nodes ...");
      await cluster.stop();
      console.log("Both nodes have exited.");
    })();
  let interrupted = false;
  let serving = false;
  const onSignal = () => {
    if (serving) {
      // Serving is what the user stops with Ctrl-C: a normal end, not an interruption.
      serving = false;
      stopped.resolve();
      return;
    }
    interrupted = true;
    console.log("\nInterrupted.");
    stop().finally(() => Deno.exit(130));
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);

  try {
    if (options.serve) checkPortFree(options.port);
    console.log("exo-node demo: two nodes on this machine serve one model together.\n");

    console.log(
      `[1/4] Model: random weights in a small Llama shape (${DEMO_MODEL.numLayers} layers, ` +
        `hidden ${DEMO_MODEL.hiddenSize}) with the real Llama 3 tokenizer.`,
    );
    const modelStarted = performance.now();
    const model = await ensureRandomCheckpoint(`${cache}/demo-model`, DEMO_MODEL);
    console.log(`      ${model.dir} (ready in ${seconds(performance.now() - modelStarted)})`);
    console.log("      The weights are random, so the answer will be gibberish: the point is");
    console.log("      the path it takes through both nodes.\n");

    cluster = await LocalCluster.start({
      ids: NODE_IDS,
      modelDir: model.dir,
      cacheDir: `${cache}/demo-shards`,
      memoryMb: 4096,
      args: [
        "--max-generate-tokens",
        String(options.serve ? Math.max(options.maxTokens, SERVE_MAX_TOKENS) : options.maxTokens),
      ],
      ...(options.serve ? { entryApiPort: options.port } : {}),
    });
    console.log("[2/4] Started two nodes on loopback, each with a peers file naming the other:");
    for (const node of cluster.nodes) {
      console.log(
        `        ${node.id} (pid ${node.pid}): API http://127.0.0.1:${node.apiPort}, ` +
          `peers on 127.0.0.1:${node.nodePort}`,
      );
    }
    console.log(`      Peers files and state dirs: ${cluster.dir}\n`);

    console.log("[3/4] Waiting until the nodes have found each other ...");
    const readyStarted = performance.now();
    await cluster.ready();
    console.log(`      Connected in ${seconds(performance.now() - readyStarted)}. Layer split:`);
    const shards = await cluster.partition();
    for (const shard of shards) {
      console.log(`        ${shard.node_id}: layers ${shard.start_layer}..${shard.end_layer}`);
    }
    const lap = [...shards.map((shard) => shard.node_id), shards[0].node_id].join(" -> ");
    console.log();

    const entry = cluster.entry;
    const client = new OpenAI({ baseURL: `${entry.url}/v1`, apiKey: "not-needed", maxRetries: 0 });
    console.log(
      `[4/4] Asking "${entry.id}" with the openai client (streaming, temperature ${TEMPERATURE}, seed ${SEED}):\n` +
        `      > ${options.prompt}\n`,
    );
    const encoder = new TextEncoder();
    const result = await streamChat(client, {
      model: model.dir,
      prompt: options.prompt,
      maxTokens: options.maxTokens,
      temperature: TEMPERATURE,
      seed: SEED,
    }, (text) => Deno.stdout.writeSync(encoder.encode(text)));
    console.log("\n");
    console.log(
      `Generated ${result.completionTokens} tokens (prompt ${result.promptTokens}, finish: ` +
        `${result.finishReason}).`,
    );
    console.log(
      `Time to first token: ${result.timeToFirstTokenMs.toFixed(0)} ms (the first request ` +
        "also loads each node's layers, and converts them on the very first run)",
    );
    console.log(
      `Decode speed: ${
        result.decodeTokensPerSecond.toFixed(1)
      } tokens/s, every token one lap ${lap}`,
    );
    if (options.serve) {
      serving = true;
      console.log(
        `\nThe two nodes stay up. Open http://localhost:${options.port} to chat with the ` +
          "demo model in the web page\n(the answers are gibberish: random weights). " +
          "Ctrl-C stops both nodes.",
      );
      await stopped.promise;
    }
    return 0;
  } catch (error) {
    if (interrupted) return 130;
    console.error(`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}`);
    if (cluster) console.error(cluster.logTail());
    return 1;
  } finally {
    await stop();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

if (import.meta.main) Deno.exit(await main());
