import type { Logger } from "../log/logger.ts";
import { describeError, type PeerConnection } from "../transport/mod.ts";
import type { LoadedShard } from "../inference/engine.ts";
import type { RequestProgress } from "../orchestration/request_progress.ts";
import type { DownloadBoard } from "./download_board.ts";
import { EngineBoard, type EngineReport } from "./engine_report.ts";
import { RequestBoard } from "./request_board.ts";
import { ActivityBoard } from "./activity_board.ts";

/** Fewest ms between two progress events of one running request sent to a peer. */
const PROGRESS_INTERVAL_MS = 250;
/** How often a serving node checks whether it started or stopped computing. */
const ACTIVITY_TICK_MS = 100;

/** What {@linkcode ClusterStatus} needs from its node. */
export interface ClusterStatusOptions {
  selfId: string;
  /** The connected peers (none before the node listens). */
  peers(): readonly PeerConnection[];
  /** A connected peer by id. */
  peer(id: string): PeerConnection | undefined;
  /** When this node last ran a shard step (ms, performance.now clock); null: not serving. */
  lastStepAt: (() => number) | null;
  /** This node's downloads, broadcast as they progress. */
  downloads?: DownloadBoard;
  logger: Logger;
}

/**
 * What the nodes of a cluster tell each other about what they are doing, as `status`
 * events: where each loaded shard runs (engine reports), the progress of each request
 * (from its origin to the rest of its ring), which node is computing (activity) and
 * download progress. It keeps what peers sent, field-checked by each board, and sends
 * this node's own; a peer that misses an event gets the next one.
 */
export class ClusterStatus {
  #options: ClusterStatusOptions;
  #engines = new EngineBoard();
  #requests = new RequestBoard();
  #activity: ActivityBoard;
  #stops: (() => void)[] = [];

  /** Keeps what peers send; sends nothing before {@linkcode start}. */
  constructor(options: ClusterStatusOptions) {
    this.#options = options;
    this.#activity = new ActivityBoard(
      () => options.lastStepAt?.() ?? 0,
      (json) => this.#broadcast(json, "activity"),
    );
  }

  /** Starts sending this node's downloads, request progress and (serving) activity. */
  start(): void {
    const options = this.#options;
    if (options.downloads) {
      this.#stops.push(options.downloads.subscribe((event) => {
        this.#broadcast(JSON.stringify(event), "download progress");
      }));
    }
    this.#stops.push(this.#sendRequestProgress());
    if (options.lastStepAt !== null) {
      const timer = setInterval(() => this.#activity.tick(), ACTIVITY_TICK_MS);
      this.#stops.push(() => clearInterval(timer));
    }
  }

  /** Takes a peer's status JSON when it is one of these events; returns whether it was. */
  fromPeer(json: string, from: string): boolean {
    return this.#options.downloads?.fromPeer(json, from) === true ||
      this.#engines.fromPeer(json, from) ||
      this.#requests.fromPeer(json, from) ||
      this.#activity.fromPeer(json, from);
  }

  /** Brings a peer that just connected up to date: where this node runs, whether it computes. */
  peerUp(peer: PeerConnection): void {
    const engine = this.#engines.get(this.#options.selfId);
    if (engine !== undefined) this.#send(peer, JSON.stringify(engine), "engine report");
    this.#send(peer, this.#activity.current(), "activity");
  }

  /** Forgets what a peer that left had said. */
  peerDown(peerId: string): void {
    this.#engines.forget(peerId);
    this.#activity.forget(peerId);
    this.#requests.nodeLeft(peerId);
  }

  /** Records where this node's new shard runs and tells every peer. */
  shardLoaded(shard: LoadedShard, model: string, requestedProvider: string): void {
    const report: EngineReport = {
      event: "engine",
      nodeId: this.#options.selfId,
      model,
      startLayer: shard.startLayer,
      endLayer: shard.endLayer,
      dtype: shard.dtype,
      requestedProvider,
      activeProvider: shard.activeProvider,
      fallbackReason: shard.fallbackReason,
      placement: shard.placement.providers.map(({ provider, nodes }) => ({ provider, nodes })),
      auto: shard.choice ?? null,
      at: Date.now(),
    };
    this.#engines.publish(report);
    this.#broadcast(JSON.stringify(report), "engine report");
  }

  /** Records a request's progress on this node (its origin); sent on to its ring. */
  publishRequest(progress: RequestProgress): void {
    this.#requests.publish(progress);
  }

  /** A node's latest engine report, or null. */
  engineOf(nodeId: string): EngineReport | null {
    return this.#engines.get(nodeId) ?? null;
  }

  /** The recent requests of the ring (this node's and those peers reported), newest first. */
  recentRequests(): RequestProgress[] {
    return this.#requests.recent();
  }

  /** The ids of the nodes running shard steps now, as far as this node knows. */
  computingNodes(): string[] {
    return this.#activity.computing(this.#options.selfId);
  }

  /** Stops sending. */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  /**
   * Sends this node's request progress to the other nodes of each request's ring: at most
   * one event per {@linkcode PROGRESS_INTERVAL_MS} while it runs, and always its end.
   */
  #sendRequestProgress(): () => void {
    const lastSent = new Map<string, number>();
    return this.#requests.subscribe((progress) => {
      const now = Date.now();
      if (progress.state === "running") {
        const last = lastSent.get(progress.requestId);
        if (last !== undefined && now - last < PROGRESS_INTERVAL_MS) return;
        lastSent.set(progress.requestId, now);
      } else {
        lastSent.delete(progress.requestId);
      }
      const json = JSON.stringify(progress);
      for (const nodeId of progress.nodes) {
        if (nodeId === this.#options.selfId) continue;
        const peer = this.#options.peer(nodeId);
        if (peer) this.#send(peer, json, "request progress");
      }
    });
  }

  #broadcast(json: string, what: string): void {
    for (const peer of this.#options.peers()) this.#send(peer, json, what);
  }

  #send(peer: PeerConnection, json: string, what: string): void {
    peer.send({ type: "status", json }).catch((error) =>
      this.#options.logger.debug(`No ${what} to ${peer.id}: ${describeError(error)}`)
    );
  }
}
