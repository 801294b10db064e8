import type { Logger } from "../log/logger.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { buildClusterView, toTopologyReport } from "../topology/topology.ts";
import type { ClusterView, TopologyReport } from "../topology/topology.ts";
import { isValidNodeId } from "../topology/node_id.ts";
import { ConnectionManager, describeError } from "../transport/mod.ts";
import type { LivenessOptions, PeerConnection, PeerMessage } from "../transport/mod.ts";
import type { PeerEntry } from "../discovery/peers_file.ts";
import { PeersFileWatcher } from "../discovery/peers_file_watcher.ts";
import { UdpDiscovery, type UdpDiscoveryOptions } from "../discovery/udp_discovery.ts";
import { interfaceWithAddress, type LocalInterface } from "../discovery/local_interfaces.ts";
import { PROTOCOL_VERSION } from "../protocol/messages.ts";
import { topologySnapshot } from "./topology_snapshot.ts";
import type { TopologySnapshot } from "./topology_snapshot.ts";
import { type EchoResult, TensorEcho } from "./tensor_echo.ts";
import type { Message } from "../protocol/messages.ts";
import type { ExecutionProvider, InferenceEngine, ShardDType } from "../inference/engine.ts";
import type { ModelResolver } from "../model/model_resolver.ts";
import { Coordinator } from "../orchestration/coordinator.ts";
import type { CompletionService } from "../orchestration/completion_service.ts";
import {
  ShardWorker,
  type ShardWorkerOptions,
  type WorkerRequestInfo,
} from "../orchestration/shard_worker.ts";
import type { DownloadBoard } from "./download_board.ts";
import { ClusterPrefetch, type PrefetchPlan } from "./cluster_prefetch.ts";
import { localModelLayers, type ModelLayers } from "./default_model.ts";
import { ModelLayersCache } from "./model_layers_cache.ts";
import { ClusterStatus } from "./cluster_status.ts";
import type { RequestProgress } from "../orchestration/request_progress.ts";

/** Everything a node needs to start. */
export interface ExoNodeConfig {
  selfId: string;
  capabilities: DeviceCapabilities;
  nodeHost: string;
  nodePort: number;
  /** Manual discovery: the peers file to dial and re-read. */
  peersPath?: string;
  /** UDP discovery: announce this node and dial the nodes heard. */
  udp?: UdpConfig;
  /**
   * This machine's interfaces, to name the one each link uses in the topology (and for
   * UDP discovery to announce on).
   */
  interfaces?: () => Promise<LocalInterface[]>;
  secret?: string;
  nodeIdFilter?: readonly string[];
  /** The default model's id and layer count, when known, for the layer split. */
  defaultModel: { id: string; numLayers: number } | null;
  logger: Logger;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  liveness?: Partial<LivenessOptions>;
  /** How often peers are asked for their view of the cluster. */
  topologyIntervalMs?: number;
  /** How often the peers file is checked for changes. */
  peersPollMs?: number;
  /** How this node serves requests; without it the node only relays topology. */
  serving?: ServingConfig;
  /** Download progress: this node's is broadcast to peers, peers' is recorded here. */
  downloads?: DownloadBoard;
}

/** UDP discovery's settings (the node fills in who it is and how to connect). */
export type UdpConfig = Pick<
  UdpDiscoveryOptions,
  | "listenPort"
  | "broadcastPort"
  | "listenHost"
  | "intervalMs"
  | "forgetMs"
  | "interfaceTypes"
  | "limits"
  | "settleMs"
>;

/** What a node needs to run shards and answer completions. */
export interface ServingConfig {
  engine: InferenceEngine;
  resolver: ModelResolver;
  dtype: ShardDType;
  executionProvider: ExecutionProvider;
  /** `--default-model`, used when a request names no model. */
  defaultModel?: string;
  maxGenerateTokens: number;
  responseTimeoutMs: number;
  waitForPeers: number;
  /** Longest context served, as the engine's. */
  maxContext?: number;
  /** Turns on the cores shared with other nodes of this machine (default: none). */
  computeTurn?: ShardWorkerOptions["computeTurn"];
}

/** The requests a node holds state for, as the diagnostics route shows them. */
export interface RequestsSnapshot {
  /** Requests this node is streaming to a client. */
  origin: string[];
  /** Requests this node runs a shard of. */
  shards: WorkerRequestInfo[];
}

/**
 * One cluster node: its connections, its discovery (a peers file, UDP announcements or both)
 * and its view of the cluster.
 * Every background task it starts is stopped and awaited by `stop`.
 */
export class ExoNode {
  readonly selfId: string;
  #config: ExoNodeConfig;
  #logger: Logger;
  #manager!: ConnectionManager;
  #watcher: PeersFileWatcher | null = null;
  #udp: UdpDiscovery | null = null;
  #known = new Map<string, DeviceCapabilities>();
  #reports = new Map<string, TopologyReport>();
  #echo: TensorEcho;
  #topologyTimer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | null = null;
  #tasks = new Set<Promise<void>>();
  #worker: ShardWorker | null = null;
  #coordinator: Coordinator | null = null;
  #prefetch: ClusterPrefetch | null = null;
  #layers: ModelLayersCache;
  #peerWaiters = new Set<() => void>();
  #stopping = new AbortController();
  #status: ClusterStatus;

  private constructor(config: ExoNodeConfig) {
    this.selfId = config.selfId;
    this.#config = config;
    this.#logger = config.logger;
    this.#echo = new TensorEcho((peerId) => this.#manager.peer(peerId));
    this.#status = new ClusterStatus({
      selfId: config.selfId,
      // Nothing is sent before start(), which runs once the manager listens.
      peers: () => this.#manager.peers(),
      peer: (id) => this.#manager.peer(id),
      lastStepAt: config.serving ? () => this.#worker?.lastStepAt ?? 0 : null,
      downloads: config.downloads,
      logger: config.logger,
    });
    this.#layers = new ModelLayersCache({ lookup: (name) => this.#lookupLayers(name) });
    const serving = config.serving;
    if (serving) {
      const send = (nodeId: string, message: Message) => this.#send(nodeId, message);
      this.#worker = new ShardWorker({
        selfId: config.selfId,
        engine: serving.engine,
        resolveModelDir: async (model, startLayer, endLayer) =>
          (await serving.resolver.resolveShard(model, startLayer, endLayer, this.#stopping.signal))
            .dir,
        dtype: serving.dtype,
        executionProvider: serving.executionProvider,
        send,
        logger: config.logger.child("shard"),
        computeTurn: serving.computeTurn,
        quietWhile: (reason, work) => this.#manager.quietWhile(reason, work),
        onShardLoaded: (shard, model) =>
          this.#status.shardLoaded(shard, model, serving.executionProvider),
      });
      this.#coordinator = new Coordinator({
        selfId: config.selfId,
        resolver: serving.resolver,
        view: () => this.view(),
        waitForPeers: (count, signal) => this.#waitForPeers(count, signal),
        send,
        logger: config.logger.child("requests"),
        defaultModel: serving.defaultModel,
        maxGenerateTokens: serving.maxGenerateTokens,
        responseTimeoutMs: serving.responseTimeoutMs,
        waitForPeerCount: serving.waitForPeers,
        maxContext: serving.maxContext,
        onProgress: (progress) => this.#status.publishRequest(progress),
        dtype: serving.dtype,
      });
      this.#prefetch = new ClusterPrefetch({
        selfId: config.selfId,
        resolver: serving.resolver,
        view: () => this.view(),
        send,
        downloads: config.downloads,
        logger: config.logger.child("download"),
        signal: this.#stopping.signal,
      });
    }
  }

  /**
   * Reads the peers file, listens on the node port, starts dialing the file's peers and
   * starts UDP discovery, as configured.
   */
  static async start(config: ExoNodeConfig): Promise<ExoNode> {
    const node = new ExoNode(config);
    if (config.peersPath !== undefined) {
      node.#watcher = await PeersFileWatcher.open(
        config.peersPath,
        config.selfId,
        config.logger.child("discovery"),
        (peers) => node.#applyPeers(peers),
        { intervalMs: config.peersPollMs },
      );
    }
    try {
      node.#manager = await ConnectionManager.start({
        selfId: config.selfId,
        capabilities: config.capabilities,
        hostname: config.nodeHost,
        port: config.nodePort,
        secret: config.secret,
        nodeIdFilter: config.nodeIdFilter,
        validateNodeId: isValidNodeId,
        admitPeer: config.udp &&
          ((peerId, remoteHost, holderHost) =>
            node.#udp?.admit(peerId, remoteHost, holderHost) ?? null),
        logger: config.logger.child("transport"),
        connectTimeoutMs: config.connectTimeoutMs,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        liveness: config.liveness,
        events: {
          onPeerUp: (peer) => {
            node.#udp?.peerUp(peer.id);
            node.#track(node.#refreshPeer(peer));
            node.#status.peerUp(peer);
            node.#notifyPeers();
          },
          onPeerDown: (peerId, _reason, peer) => {
            node.#udp?.peerDown(peerId, peer.remoteHost);
            node.#reports.delete(peerId);
            node.#status.peerDown(peerId);
            node.#worker?.onPeerDown(peerId);
            node.#coordinator?.onPeerDown(peerId);
            node.#notifyPeers();
          },
          onMessage: (peer, message) => node.#onMessage(peer, message),
        },
      });
    } catch (error) {
      await node.#watcher?.close();
      throw error;
    }
    if (node.#watcher) node.#applyPeers(node.#watcher.peers);
    if (config.udp) {
      try {
        node.#udp = await node.#startUdp(config.udp);
      } catch (error) {
        await node.#manager.close();
        await node.#watcher?.close();
        throw error;
      }
    }
    node.#status.start();
    node.#topologyTimer = setInterval(
      () => node.#refreshTopology(),
      config.topologyIntervalMs ?? 1000,
    );
    return node;
  }

  async #startUdp(udp: UdpConfig): Promise<UdpDiscovery> {
    const config = this.#config;
    const manager = this.#manager;
    const interfaces = config.interfaces;
    if (interfaces === undefined) {
      throw new TypeError("Cannot start UDP discovery: no interface list was given");
    }
    return await UdpDiscovery.start({
      ...udp,
      selfId: config.selfId,
      capabilities: config.capabilities,
      nodePort: manager.port,
      protocol: PROTOCOL_VERSION,
      nodeHost: config.nodeHost,
      nodeIdFilter: config.nodeIdFilter,
      interfaces,
      connectedHost: (id) => manager.peer(id)?.remoteHost ?? null,
      dial: (target) => manager.dialOnce(target),
      logger: config.logger.child("udp"),
    });
  }

  /** The port the node listens on for peers. */
  get port(): number {
    return this.#manager.port;
  }

  /** This node's current view of the cluster. */
  view(): ClusterView {
    const connected = new Map<string, DeviceCapabilities>();
    for (const peer of this.#manager.peers()) connected.set(peer.id, peer.capabilities);
    return buildClusterView({
      selfId: this.selfId,
      selfCapabilities: this.#config.capabilities,
      connected,
      known: this.#known,
      reports: this.#reports,
    });
  }

  /**
   * The view as the `/v1/topology` route shows it, with the layer split of `model` when
   * given (its layer count from local files only, kept a while), else of the default model.
   */
  async topology(model?: string): Promise<TopologySnapshot> {
    const layers = model === undefined ? this.#config.defaultModel : await this.#layers.get(model);
    const interfaces = await this.#config.interfaces?.().catch(() => []) ?? [];
    const links = new Map(
      this.#manager.peers().map((peer) => {
        const local = interfaceWithAddress(interfaces, peer.localHost);
        return [peer.id, {
          address: peer.address,
          rttMs: peer.rttMs,
          interface: local ? { name: local.name, type: local.type } : null,
        }];
      }),
    );
    return topologySnapshot(this.view(), links, layers, (id) => this.#status.engineOf(id), {
      peersFile: this.#config.peersPath ?? null,
      udp: this.#udp?.status() ?? null,
    });
  }

  /** Sends a random tensor of `shape` to a peer and times its echo. */
  echoTensor(peerId: string, shape: number[]): Promise<EchoResult> {
    return this.#echo.roundTrip(peerId, shape);
  }

  /** The recent requests of the ring (this node's and those peers reported), newest first. */
  recentRequests(): RequestProgress[] {
    return this.#status.recentRequests();
  }

  /** The ids of the nodes running shard steps now, as far as this node knows. */
  computingNodes(): string[] {
    return this.#status.computingNodes();
  }

  /** The completion service of a serving node. */
  get completions(): CompletionService {
    if (this.#coordinator === null) {
      throw new TypeError("Cannot serve completions: the node was started without serving");
    }
    return this.#coordinator;
  }

  /** The requests this node holds state for. */
  requests(): RequestsSnapshot {
    return {
      origin: this.#coordinator?.activeRequests() ?? [],
      shards: this.#worker?.requests() ?? [],
    };
  }

  /**
   * Starts downloading `model` on every node of the current plan: this node's share (config
   * and tokenizer first, then the shard's weight files in the background) and, through a
   * `prefetch` status message, each other node's; resolves to the plan once begun.
   * @throws {ClusterUnavailableError} when the plan gives this node no layers.
   */
  async prefetch(model: string): Promise<PrefetchPlan> {
    this.#servingConfig("prefetch models");
    return await this.#prefetch!.start(model);
  }

  /** Deletes the local copy of `model`; resolves to the bytes freed, null when there was none. */
  removeModel(model: string): Promise<number | null> {
    return this.#servingConfig("remove models").resolver.remove(model);
  }

  #servingConfig(what: string): ServingConfig {
    const serving = this.#config.serving;
    if (serving === undefined) {
      throw new TypeError(`Cannot ${what}: the node was started without serving`);
    }
    return serving;
  }

  /** Stops dialing, closes every connection and waits for every background task. */
  async stop(): Promise<void> {
    this.#stopping.abort(new Error("The node is stopping"));
    this.#status.close();
    clearInterval(this.#topologyTimer);
    this.#coordinator?.close();
    await this.#worker?.close();
    await this.#watcher?.close();
    // Closing stops announcing and dialing at once; its dials end with the manager below.
    const udpClosed = this.#udp?.close();
    this.#echo.close();
    await this.#prefetch?.close();
    await this.#manager.close();
    await udpClosed;
    await this.#refreshing;
    await Promise.all(this.#tasks);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  #applyPeers(peers: readonly PeerEntry[]): void {
    this.#known = new Map(peers.map((peer) => [peer.id, peer.capabilities]));
    // Before the manager exists (first read of the file) targets are applied after start.
    this.#manager?.setDialTargets(peers.map(({ id, host, port }) => ({ id, host, port })));
  }

  #onMessage(peer: PeerConnection, message: PeerMessage): void {
    switch (message.type) {
      case "topology_request": {
        const report = toTopologyReport(this.view(), peer.id);
        peer.send({ type: "topology_reply", id: message.id, ...report }).catch(() => {});
        return;
      }
      case "tensor":
        if (this.#echo.handle(peer, message)) return;
        this.#route(peer.id, message);
        return;
      case "status":
        if (this.#status.fromPeer(message.json, peer.id)) return;
        if (this.#prefetch?.onStatus(message.json, peer.id)) return;
        this.#route(peer.id, message);
        return;
      case "prompt":
      case "token":
      case "error":
      case "cancel":
        this.#route(peer.id, message);
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Hands a request message (from a peer or from this node) to the worker or coordinator. */
  #route(from: string, message: Message): void {
    const worker = this.#worker;
    const coordinator = this.#coordinator;
    if (worker === null || coordinator === null) {
      this.#logger.debug(`Ignoring ${message.type} from ${from}: this node does not serve`);
      return;
    }
    switch (message.type) {
      case "prompt":
        return worker.onPrompt(message);
      case "tensor":
        return worker.onTensor(message, from);
      case "token":
        if (coordinator.has(message.requestId)) coordinator.onToken(message);
        if (worker.isFirstShardOf(message.requestId)) worker.onToken(message);
        return;
      case "status":
        return coordinator.onStatus(message, from);
      case "error":
        return coordinator.onError(message, from);
      case "cancel":
        return worker.onCancel(message.requestId, message.reason);
      default:
        this.#logger.debug(`Ignoring ${message.type} from ${from}: not a request message`);
    }
  }

  /** Sends to a peer, or hands the message to this node itself. */
  #send(nodeId: string, message: Message): Promise<void> {
    if (nodeId === this.selfId) {
      queueMicrotask(() => this.#route(this.selfId, message));
      return Promise.resolve();
    }
    const peer = this.#manager.peer(nodeId);
    if (peer === undefined) {
      return Promise.reject(new Error(`Cannot send to ${nodeId}: not connected`));
    }
    return peer.send(message);
  }

  #waitForPeers(count: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#manager.peers().length < count) return;
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(
          new Error(`${this.#manager.peers().length} of ${count} peers connected`),
        );
      };
      const done = () => {
        this.#peerWaiters.delete(check);
        signal.removeEventListener("abort", onAbort);
      };
      if (signal.aborted) return onAbort();
      this.#peerWaiters.add(check);
      signal.addEventListener("abort", onAbort);
      check();
    });
  }

  /** A layer count for the topology; a config that cannot be read leaves it unknown. */
  async #lookupLayers(name: string): Promise<ModelLayers | null> {
    try {
      return await localModelLayers(name, this.#config.serving?.resolver);
    } catch (error) {
      this.#logger.warn(`Layer split unknown for ${JSON.stringify(name)}: ${describeError(error)}`);
      return null;
    }
  }

  #notifyPeers(): void {
    for (const check of [...this.#peerWaiters]) check();
  }

  #refreshTopology(): void {
    if (this.#refreshing) return;
    this.#refreshing = Promise.all(this.#manager.peers().map((peer) => this.#refreshPeer(peer)))
      .then(() => {})
      .finally(() => this.#refreshing = null);
  }

  async #refreshPeer(peer: PeerConnection): Promise<void> {
    try {
      const reply = await peer.requestTopology();
      if (this.#manager.peer(peer.id) === peer) {
        this.#reports.set(peer.id, { nodes: reply.nodes, edges: reply.edges });
      }
    } catch (error) {
      this.#logger.debug(`No topology from ${peer.id}: ${describeError(error)}`);
    }
  }
}
