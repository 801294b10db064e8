import type { Logger } from "../log/logger.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { buildClusterView, toTopologyReport } from "../topology/topology.ts";
import type { ClusterView, TopologyReport } from "../topology/topology.ts";
import { isValidNodeId } from "../topology/node_id.ts";
import { ConnectionManager, describeError } from "../transport/mod.ts";
import type { LivenessOptions, PeerConnection, PeerMessage } from "../transport/mod.ts";
import type { PeerEntry } from "../discovery/peers_file.ts";
import { PeersFileWatcher } from "../discovery/peers_file_watcher.ts";
import { topologySnapshot } from "./topology_snapshot.ts";
import type { TopologySnapshot } from "./topology_snapshot.ts";
import { TensorEcho } from "./tensor_echo.ts";
import type { EchoResult } from "../api/app.ts";

/** Everything a node needs to start. */
export interface ExoNodeConfig {
  selfId: string;
  capabilities: DeviceCapabilities;
  nodeHost: string;
  nodePort: number;
  peersPath: string;
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
}

/**
 * One cluster node: its connections, its peers file, and its view of the cluster.
 * Every background task it starts is stopped and awaited by `stop`.
 */
export class ExoNode {
  readonly selfId: string;
  #config: ExoNodeConfig;
  #logger: Logger;
  #manager!: ConnectionManager;
  #watcher!: PeersFileWatcher;
  #known = new Map<string, DeviceCapabilities>();
  #reports = new Map<string, TopologyReport>();
  #echo: TensorEcho;
  #topologyTimer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | null = null;
  #tasks = new Set<Promise<void>>();

  private constructor(config: ExoNodeConfig) {
    this.selfId = config.selfId;
    this.#config = config;
    this.#logger = config.logger;
    this.#echo = new TensorEcho((peerId) => this.#manager.peer(peerId));
  }

  /** Reads the peers file, listens on the node port and starts dialing peers. */
  static async start(config: ExoNodeConfig): Promise<ExoNode> {
    const node = new ExoNode(config);
    node.#watcher = await PeersFileWatcher.open(
      config.peersPath,
      config.selfId,
      config.logger.child("discovery"),
      (peers) => node.#applyPeers(peers),
      { intervalMs: config.peersPollMs },
    );
    try {
      node.#manager = await ConnectionManager.start({
        selfId: config.selfId,
        capabilities: config.capabilities,
        hostname: config.nodeHost,
        port: config.nodePort,
        secret: config.secret,
        nodeIdFilter: config.nodeIdFilter,
        validateNodeId: isValidNodeId,
        logger: config.logger.child("transport"),
        connectTimeoutMs: config.connectTimeoutMs,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        liveness: config.liveness,
        events: {
          onPeerUp: (peer) => node.#track(node.#refreshPeer(peer)),
          onPeerDown: (peerId) => node.#reports.delete(peerId),
          onMessage: (peer, message) => node.#onMessage(peer, message),
        },
      });
    } catch (error) {
      await node.#watcher.close();
      throw error;
    }
    node.#applyPeers(node.#watcher.peers);
    node.#topologyTimer = setInterval(
      () => node.#refreshTopology(),
      config.topologyIntervalMs ?? 1000,
    );
    return node;
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

  /** The view as the `/v1/topology` route shows it. */
  topology(): TopologySnapshot {
    const links = new Map(
      this.#manager.peers().map((peer) => [peer.id, { address: peer.address, rttMs: peer.rttMs }]),
    );
    return topologySnapshot(this.view(), links, this.#config.defaultModel);
  }

  /** Sends a random tensor of `shape` to a peer and times its echo. */
  echoTensor(peerId: string, shape: number[]): Promise<EchoResult> {
    return this.#echo.roundTrip(peerId, shape);
  }

  /** Stops dialing, closes every connection and waits for every background task. */
  async stop(): Promise<void> {
    clearInterval(this.#topologyTimer);
    await this.#watcher.close();
    this.#echo.close();
    await this.#manager.close();
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
        this.#logger.debug(
          `Ignoring tensor for unknown request ${message.requestId} from ${peer.id}`,
        );
        return;
      case "prompt":
      case "token":
      case "status":
      case "error":
      case "cancel":
        this.#logger.debug(`Ignoring ${message.type} from ${peer.id}: no request handler yet`);
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
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
