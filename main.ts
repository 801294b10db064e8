/**
 * exo-node: one node of a home cluster that serves a large language model split across
 * machines. This file is the only composition root: it parses flags, builds the node,
 * starts its servers and stops everything on SIGINT/SIGTERM.
 * @module
 */
import {
  apiUrls,
  FlagError,
  helpText,
  parseFlags,
  readSecretFiles,
  resolveNodeId,
  userDirectory,
  VERSION,
} from "./lib/cli/mod.ts";
import type { NodeOptions } from "./lib/cli/mod.ts";
import { LogFile, Logger } from "./lib/log/mod.ts";
import { detectCapabilities, detectPerformanceCores } from "./lib/topology/mod.ts";
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
import { LogPane } from "./lib/tui/log_pane.ts";
import { TuiApp } from "./lib/tui/tui_app.ts";
import { buildViewModel } from "./lib/tui/build_view_model.ts";
import { formatMemory } from "./lib/tui/format.ts";

/** The terminal view's log: every line to a file, warnings and errors to its pane. */
interface TuiLog {
  file: LogFile;
  pane: LogPane;
}

const encoder = new TextEncoder();

/** Largest HTTP request body accepted (a long chat fits many times over). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function print(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  stream.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

/** Runs the program and resolves to its exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  let secretWarnings: string[] = [];
  try {
    parsed = parseFlags(args, Deno.env, Deno.cwd());
    if ("help" in parsed) {
      print(Deno.stdout, helpText());
      return 0;
    }
    if ("version" in parsed) {
      print(Deno.stdout, `exo-node ${VERSION}`);
      return 0;
    }
    ({ options: parsed, warnings: secretWarnings } = await readSecretFiles(parsed));
  } catch (error) {
    if (error instanceof FlagError) {
      print(Deno.stderr, `exo-node: ${error.message}`);
      return 2;
    }
    throw error;
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
  if (parsed.command === "run") {
    const logger = new Logger(parsed.logLevel);
    for (const warning of secretWarnings) logger.warn(warning);
    // Imported here so that serving does not load ONNX Runtime until it needs it.
    const { runCommand } = await import("./lib/cli/run_command.ts");
    const view = downloadView(logger, Deno.stderr.isTerminal());
    const status = await runCommand(parsed, {
      logger,
      write: (text) => Deno.stdout.writeSync(encoder.encode(text)),
      terminal: Deno.stdout.isTerminal(),
      models: await modelResolver(parsed, logger, "local", (event) => view.show(event)),
      userDir: userDirectory(Deno.env, Deno.cwd()),
    });
    view.close();
    return status;
  }
  // The view is drawn on a terminal that can show it, unless --disable-tui; elsewhere the
  // log goes to stderr as plain timestamped lines.
  const tui = !parsed.disableTui && Deno.stdout.isTerminal() && Deno.env.get("TERM") !== "dumb";
  let tuiLog: TuiLog | undefined;
  let logger: Logger;
  if (tui) {
    const file = LogFile.open(join(parsed.stateDir, "exo-node.log"));
    const pane = new LogPane();
    tuiLog = { file, pane };
    logger = new Logger(parsed.logLevel, (line, level, message) => {
      file.write(line);
      pane.add(level, message);
    });
    print(Deno.stderr, `exo-node: starting; the log goes to ${file.path}`);
  } else {
    logger = new Logger(parsed.logLevel);
  }
  for (const warning of secretWarnings) logger.warn(warning);
  try {
    return await serve(parsed, logger, tuiLog);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error(message);
    // With the view, the log is in a file: the reason the node did not start shows here too.
    if (tuiLog) print(Deno.stderr, `exo-node: ${message}`);
    return 1;
  } finally {
    if (tuiLog) print(Deno.stderr, `exo-node: stopped; the log is in ${tuiLog.file.path}`);
    tuiLog?.file.close();
  }
}

async function serve(options: NodeOptions, logger: Logger, tuiLog?: TuiLog): Promise<number> {
  // Listening from the start: a signal that arrives while the node starts stops it once up.
  const shutdown = shutdownRequest();
  try {
    return await serveUntilShutdown(options, logger, shutdown, tuiLog);
  } finally {
    shutdown.dispose();
  }
}

/** ONNX Runtime's threads when --threads is not given: the performance cores. */
async function defaultThreads(logger: Logger): Promise<number> {
  const { cores, source } = await detectPerformanceCores();
  logger.info(`Compute threads: ${cores} (${source}; --threads sets another count)`);
  return cores;
}

async function serveUntilShutdown(
  options: NodeOptions,
  logger: Logger,
  shutdown: ShutdownRequest,
  tuiLog?: TuiLog,
): Promise<number> {
  const selfId = await resolveNodeId(options);
  const capabilities = await detectCapabilities({
    memoryMb: options.deviceMemoryMb,
    chip: options.deviceChip,
    fp32Tflops: options.deviceFlops,
  }, { logger: logger.child("device") });
  logger.info(
    `Node ${selfId}: ${capabilities.chip}, ${
      formatMemory(capabilities.memory)
    }, ${capabilities.flops.fp32} TFLOPS fp32`,
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
  const { OnnxEngine, autoProviderOptions, defaultDType } = await import(
    "./lib/inference/engine.ts"
  );
  if (tuiLog) {
    // ONNX Runtime's native code writes its own warnings straight to stderr, over the view.
    const { quietOrtLog } = await import("./lib/inference/onnx/ort_session.ts");
    quietOrtLog();
  }
  const computeTurn = await openComputeTurn(options, logger);
  const threads = options.threads ?? await defaultThreads(logger);
  const engine = new OnnxEngine({
    cacheDir: options.cacheDir ?? join(options.stateDir, "shards"),
    threads,
    auto: autoProviderOptions(options.stateDir, capabilities.chip, options.reprobe),
    logger: logger.child("engine"),
  });
  const downloads = new DownloadBoard();
  const resolver = await modelResolver(options, logger, selfId, (e) => downloads.publish(e));
  const progressView = downloadView(logger, tuiLog === undefined && Deno.stderr.isTerminal());
  const unsubscribeView = downloads.subscribe((event) => progressView.show(event));
  const dtype = options.dtype ?? defaultDType(options.executionProvider);
  logger.info(
    options.executionProvider === "auto"
      ? `Shards run in ${dtype} on the fastest provider measured at load (--execution-provider auto)`
      : `Shards run on ${options.executionProvider} in ${dtype}`,
  );

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
      onListen: ({ port }) => {
        const [local, ...lan] = apiUrls(port, Deno.networkInterfaces());
        const others = lan.length === 0 ? "" : `; from other machines ${lan.join(" ")}`;
        logger.info(`HTTP API on ${local} (node ${selfId})${others}`);
      },
    }, app.fetch);
  } catch (error) {
    await node.stop();
    await engine.dispose();
    throw new Error(
      `Cannot serve the HTTP API on port ${options.chatgptApiPort}: ${(error as Error).message}`,
    );
  }

  const view = tuiLog === undefined ? undefined : startView({
    node,
    downloads,
    log: tuiLog,
    apiPort: (server.addr as Deno.NetAddr).port,
    nodePort: node.port,
    onQuit: () => shutdown.quit(),
    logger,
  });
  const signal = await shutdown.reason;
  await view?.stop();
  logger.info(signal === "q" ? "Quit (q), shutting down" : `Received ${signal}, shutting down`);
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
      "UDP discovery without a cluster secret: any exo-node on this network that has no secret either joins this cluster and runs layers of its requests; give every node the same secret in EXO_CLUSTER_SECRET or --cluster-secret-file",
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
function downloadView(logger: Logger, terminal: boolean): DownloadProgressView {
  return new DownloadProgressView({
    terminal,
    write: (text) => Deno.stderr.writeSync(encoder.encode(text)),
    logger: logger.child("download"),
  });
}

/**
 * Starts the terminal view: the alternate screen until `stop`, restored also when the
 * program crashes; keys from stdin in cbreak mode (Ctrl-C stays a signal), `q` quits.
 */
function startView(deps: {
  node: ExoNode;
  downloads: DownloadBoard;
  log: TuiLog;
  apiPort: number;
  nodePort: number;
  onQuit: () => void;
  logger: Logger;
}): { stop(): Promise<void> } {
  const keys = Deno.stdin.isTerminal();
  if (keys) Deno.stdin.setRaw(true, { cbreak: true });
  const urls = apiUrls(deps.apiPort, Deno.networkInterfaces());
  const app = new TuiApp({
    model: async () =>
      buildViewModel({
        version: VERSION,
        apiUrls: urls,
        nodePort: deps.nodePort,
        logFile: deps.log.file.path,
        topology: await deps.node.topology(),
        computing: deps.node.computingNodes(),
        requests: deps.node.recentRequests(),
        downloads: deps.downloads.snapshot(),
        logs: deps.log.pane.lines(),
        activity: deps.log.pane.activity(),
      }),
    write: (text) => Deno.stdout.writeSync(encoder.encode(text)),
    size: () => {
      const { columns, rows } = Deno.consoleSize();
      return { columns, rows };
    },
    input: keys ? Deno.stdin.readable : undefined,
    onQuit: deps.onQuit,
    onError: (error) => deps.logger.error(`Cannot draw the view: ${(error as Error).message}`),
  });
  const crash = () => {
    app.restore();
    if (keys) Deno.stdin.setRaw(false);
  };
  globalThis.addEventListener("error", crash);
  globalThis.addEventListener("unhandledrejection", crash);
  app.start();
  return {
    async stop() {
      globalThis.removeEventListener("error", crash);
      globalThis.removeEventListener("unhandledrejection", crash);
      await app.stop();
      if (keys) Deno.stdin.setRaw(false);
    },
  };
}

/** What asked the node to stop: SIGINT (Ctrl-C), SIGTERM, or "q" in the terminal view. */
interface ShutdownRequest {
  reason: Promise<Deno.Signal | "q">;
  quit(): void;
  /** Stops listening for the signals. */
  dispose(): void;
}

function shutdownRequest(): ShutdownRequest {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal | "q">();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return {
    reason: promise,
    quit: () => resolve("q"),
    dispose: () => {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
