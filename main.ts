/**
 * exo-node: one node of a home cluster that serves a large language model split across
 * machines. This file is the only composition root: it parses flags, builds the node,
 * starts its servers and stops everything on SIGINT/SIGTERM.
 * @module
 */
import { FlagError, helpText, parseFlags, resolveNodeId, VERSION } from "./lib/cli/mod.ts";
import type { NodeOptions } from "./lib/cli/mod.ts";
import { Logger } from "./lib/log/mod.ts";
import { detectCapabilities } from "./lib/topology/mod.ts";
import { ExoNode } from "./lib/node/mod.ts";
import { resolveModelLayers } from "./lib/node/default_model.ts";
import { type AccessRules, accessSummary, createApp, ownHostNames } from "./lib/api/mod.ts";
import { hubCacheDir } from "./lib/model/hub_cache.ts";
import { ModelResolver } from "./lib/model/model_resolver.ts";
import { loadModelConfig } from "./lib/model/hf_config.ts";
import { ModelDownloader } from "./lib/model/model_downloader.ts";
import { HubClient } from "./lib/model/hub_client.ts";
import { hubEndpoint, hubOfflineFromEnv, hubToken } from "./lib/model/hub_settings.ts";
import { DownloadBoard } from "./lib/node/download_board.ts";
import { DownloadProgressView } from "./lib/cli/download_progress_view.ts";
import type { DownloadEvent } from "./lib/model/download_progress.ts";
import { join } from "node:path";
import { ComputeTurn } from "./lib/inference/compute_turn.ts";
import { InterfaceProbe } from "./lib/discovery/interface_probe.ts";
import type { UdpConfig } from "./lib/node/exo_node.ts";

const encoder = new TextEncoder();

/** Largest HTTP request body accepted (a long chat fits many times over). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function print(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  stream.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

/** Runs the program and resolves to its exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(args, Deno.env);
  } catch (error) {
    if (error instanceof FlagError) {
      print(Deno.stderr, `exo-node: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if ("help" in parsed) {
    print(Deno.stdout, helpText());
    return 0;
  }
  if ("version" in parsed) {
    print(Deno.stdout, `exo-node ${VERSION}`);
    return 0;
  }
  if (parsed.executionProvider === "webgpu") {
    // Imported here so that --help and flag errors do not load ONNX Runtime.
    const { missingProvider } = await import("./lib/inference/onnx/ort_session.ts");
    const missing = missingProvider(parsed.executionProvider);
    if (missing !== null) {
      print(Deno.stderr, `exo-node: Invalid value for --execution-provider: ${missing}`);
      return 2;
    }
  }
  const logger = new Logger(parsed.logLevel);
  if (parsed.command === "run") {
    // Imported here so that serving does not load ONNX Runtime until it needs it.
    const { runCommand } = await import("./lib/cli/run_command.ts");
    const view = downloadView(logger);
    const status = await runCommand(parsed, {
      logger,
      write: (text) => Deno.stdout.writeSync(encoder.encode(text)),
      terminal: Deno.stdout.isTerminal(),
      models: await modelResolver(parsed, logger, "local", (event) => view.show(event)),
    });
    view.close();
    return status;
  }
  try {
    return await serve(parsed, logger);
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

async function serve(options: NodeOptions, logger: Logger): Promise<number> {
  const selfId = await resolveNodeId(options);
  const capabilities = await detectCapabilities({
    memoryMb: options.deviceMemoryMb,
    chip: options.deviceChip,
    fp32Tflops: options.deviceFlops,
  }, { logger: logger.child("device") });
  logger.info(
    `Node ${selfId}: ${capabilities.chip}, ${capabilities.memory} MB, ${capabilities.flops.fp32} TFLOPS fp32`,
  );

  let defaultModel = null;
  if (options.defaultModel) {
    const resolved = await resolveModelLayers(options.defaultModel);
    if ("model" in resolved) {
      defaultModel = resolved.model;
    } else {
      // A hub repo downloaded by an earlier run (or another tool) gives its split at once.
      defaultModel = await downloadedModelLayers(options.defaultModel, options, logger);
      if (defaultModel === null) {
        logger.warn(`Layer split unknown for --default-model: ${resolved.reason}`);
      }
    }
  }

  // Imported here so that --help and flag errors do not load ONNX Runtime.
  const { OnnxEngine, defaultDType } = await import("./lib/inference/engine.ts");
  const computeTurn = await openComputeTurn(options, logger);
  const engine = new OnnxEngine({
    cacheDir: options.cacheDir ?? join(options.stateDir, "shards"),
    logger: logger.child("engine"),
  });
  const downloads = new DownloadBoard();
  const resolver = await modelResolver(options, logger, selfId, (e) => downloads.publish(e));
  const progressView = downloadView(logger);
  const unsubscribeView = downloads.subscribe((event) => progressView.show(event));
  const dtype = options.dtype ?? defaultDType(options.executionProvider);
  logger.info(`Shards run on ${options.executionProvider} in ${dtype}`);

  const interfaces = new InterfaceProbe();
  const node = await ExoNode.start({
    selfId,
    capabilities,
    nodeHost: options.nodeHost,
    nodePort: options.nodePort,
    // parseFlags guarantees a peers file for manual discovery; udp may have one too.
    peersPath: options.discoveryConfigPath,
    udp: udpConfig(options, logger),
    interfaces: () => interfaces.list(),
    secret: options.clusterSecret,
    nodeIdFilter: options.nodeIdFilter,
    defaultModel,
    logger,
    downloads,
    connectTimeoutMs: options.discoveryTimeout * 1000,
    handshakeTimeoutMs: options.discoveryTimeout * 1000,
    serving: {
      engine,
      resolver,
      dtype,
      executionProvider: options.executionProvider,
      defaultModel: options.defaultModel,
      maxGenerateTokens: options.maxGenerateTokens,
      responseTimeoutMs: options.chatgptApiResponseTimeout * 1000,
      waitForPeers: options.waitForPeers,
      computeTurn,
    },
  }).catch(async (error) => {
    await engine.dispose();
    throw error;
  });

  const access = apiAccess(options);
  logger.info(accessSummary(access));
  const app = createApp({
    nodeId: selfId,
    topology: (model) => node.topology(model),
    echoTensor: (peer, shape) => node.echoTensor(peer, shape),
    completions: node.completions,
    requests: () => node.requests(),
    downloads: {
      progress: () => downloads.snapshot(),
      prefetch: (model) => node.prefetch(model),
      remove: (model) => node.removeModel(model),
    },
    access,
    limits: {
      maxBodyBytes: MAX_BODY_BYTES,
      defaultModel: options.defaultModel,
      maxGenerateTokens: options.maxGenerateTokens,
    },
  });
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: "0.0.0.0",
      port: options.chatgptApiPort,
      onListen: ({ port }) => logger.info(`HTTP API on http://0.0.0.0:${port} (node ${selfId})`),
    }, app.fetch);
  } catch (error) {
    await node.stop();
    await engine.dispose();
    throw new Error(
      `Cannot serve the HTTP API on port ${options.chatgptApiPort}: ${(error as Error).message}`,
    );
  }

  const signal = await waitForShutdownSignal();
  logger.info(`Received ${signal}, shutting down`);
  await server.shutdown();
  await node.stop();
  await engine.dispose();
  computeTurn?.close();
  unsubscribeView();
  progressView.close();
  logger.info("Stopped");
  return 0;
}

/** UDP discovery's settings from the flags, or undefined with manual discovery. */
function udpConfig(options: NodeOptions, logger: Logger): UdpConfig | undefined {
  if (options.discoveryModule !== "udp") return undefined;
  if (!options.clusterSecret) {
    logger.warn(
      "UDP discovery without --cluster-secret: any exo-node on this network that has no secret either joins this cluster and runs layers of its requests; give every node the same --cluster-secret",
    );
  }
  return {
    listenPort: options.listenPort,
    broadcastPort: options.broadcastPort,
    intervalMs: options.broadcastInterval * 1000,
    forgetMs: options.discoveryTimeout * 1000,
    interfaceTypes: options.interfaceTypeFilter,
  };
}

/**
 * The turns this machine's nodes take on its cores (see ComputeTurn), or undefined with
 * `--compute-lock none`. The default lock file failing to open only costs the turns; a
 * file named by the user failing is an error.
 */
async function openComputeTurn(
  options: NodeOptions,
  logger: Logger,
): Promise<ComputeTurn | undefined> {
  if (options.computeLock === "none") {
    logger.info(
      "Shard runs do not take turns with other nodes on this machine (--compute-lock none)",
    );
    return undefined;
  }
  const path = options.computeLock ?? join(tempDir(), "exo-node-compute.lock");
  try {
    const turn = await ComputeTurn.open(path);
    logger.debug(`Shard runs take turns with this machine's other nodes through ${path}`);
    return turn;
  } catch (error) {
    if (options.computeLock !== undefined) {
      throw error;
    }
    logger.warn(
      `${
        (error as Error).message
      }; shard runs will not take turns with other nodes on this machine`,
    );
    return undefined;
  }
}

/**
 * Who may call the HTTP API: loopback and this machine's own names and addresses (a browser
 * reaching `http://mac1.local:52415` sends that as Host), plus the `--api-*` flags.
 */
function apiAccess(options: NodeOptions): AccessRules {
  return {
    ownHosts: ownHostNames(Deno.hostname(), Deno.networkInterfaces().map((i) => i.address)),
    origins: options.apiOrigins,
    hosts: options.apiHosts,
    apiKey: options.apiKey,
  };
}

function tempDir(): string {
  const fromEnv = Deno.env.get(Deno.build.os === "windows" ? "TEMP" : "TMPDIR");
  return fromEnv ? fromEnv : Deno.build.os === "windows" ? "C:\\Windows\\Temp" : "/tmp";
}

/** Where models come from: the hub cache, the seed dir, and the hub unless offline. */
async function modelResolver(
  options: NodeOptions,
  logger: Logger,
  nodeId: string,
  onProgress: (event: DownloadEvent) => void,
): Promise<ModelResolver> {
  const hubCache = hubCacheDir(Deno.env);
  const downloader = new ModelDownloader({
    client: new HubClient({ endpoint: hubEndpoint(Deno.env), token: await hubToken(Deno.env) }),
    hubCache,
    nodeId,
    maxParallel: options.maxParallelDownloads,
    onProgress,
    logger: logger.child("download"),
  });
  return new ModelResolver({
    hubCache,
    seedDir: options.modelsSeedDir,
    downloader,
    offline: options.offline || hubOfflineFromEnv(Deno.env),
  });
}

/** The layer count of a model already downloaded (hub cache or seed dir); null otherwise. */
async function downloadedModelLayers(
  name: string,
  options: NodeOptions,
  logger: Logger,
): Promise<{ id: string; numLayers: number } | null> {
  try {
    const local = new ModelResolver({
      hubCache: hubCacheDir(Deno.env),
      seedDir: options.modelsSeedDir,
    });
    const model = await local.resolve(name);
    return { id: model.id, numLayers: (await loadModelConfig(model.dir)).numLayers };
  } catch (error) {
    logger.debug(`--default-model is not on this node yet: ${(error as Error).message}`);
    return null;
  }
}

/** Download progress on stderr: a bar on a terminal, else log lines. */
function downloadView(logger: Logger): DownloadProgressView {
  return new DownloadProgressView({
    terminal: Deno.stderr.isTerminal(),
    write: (text) => Deno.stderr.writeSync(encoder.encode(text)),
    logger: logger.child("download"),
  });
}

function waitForShutdownSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
    });
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
