import type { Logger } from "../log/logger.ts";
import { endedDownloadEvent } from "../model/download_progress.ts";
import { loadModelConfig } from "../model/hf_config.ts";
import type { ModelResolver } from "../model/model_resolver.ts";
import { findModelCard } from "../model/registry.ts";
import { ClusterUnavailableError } from "../orchestration/errors.ts";
import { planRequest } from "../orchestration/plan_request.ts";
import type { Message } from "../protocol/messages.ts";
import type { ShardRange } from "../topology/partition.ts";
import type { ClusterView } from "../topology/topology.ts";
import { describeError } from "../transport/mod.ts";
import type { DownloadBoard } from "./download_board.ts";
import { parsePrefetchRequest, prefetchRequestJson } from "./prefetch_request.ts";

/** The layers a prefetch fetches on this node, and the plan it asked of the cluster. */
export interface PrefetchPlan {
  /** The model as every node resolves it. */
  model: string;
  startLayer: number;
  endLayer: number;
  /** Every node of the plan with its layers, in pipeline order, this node among them. */
  shards: ShardRange[];
}

/** What a {@linkcode ClusterPrefetch} needs from its node. */
export interface ClusterPrefetchOptions {
  selfId: string;
  resolver: ModelResolver;
  /** The node's current view of the cluster, for the plan. */
  view(): ClusterView;
  /** Sends a message to a peer. */
  send(nodeId: string, message: Message): Promise<void>;
  /** This node's download events, where a share that ends without one gets one. */
  downloads?: DownloadBoard;
  logger: Logger;
  /** Aborted when the node stops: every fetch ends. */
  signal: AbortSignal;
}

/**
 * Downloads a model on every node of the plan a request would get now. This node fetches
 * its share and asks each other node of the plan for its own with a `prefetch` status
 * message; a node that gets one fetches that share. Each fetch is a background task that
 * `close` awaits. Progress travels to every node as download events; a share that ends
 * without any (it failed before its download began, or nothing was missing) publishes one.
 */
export class ClusterPrefetch {
  #options: ClusterPrefetchOptions;
  #tasks = new Set<Promise<void>>();
  /** The shares being fetched, so that a repeated ask does not start a second fetch. */
  #running = new Set<string>();

  /** Creates the prefetcher; nothing is fetched until `start` or a peer's request. */
  constructor(options: ClusterPrefetchOptions) {
    this.#options = options;
  }

  /**
   * Finds the plan for `model` (fetching its config first when needed), starts fetching
   * this node's share and asks the other nodes of the plan for theirs; resolves to the
   * plan once that has begun.
   * @throws {ClusterUnavailableError} when the plan gives this node no layers.
   * @throws {ModelNotFoundError} or {HubAccessError} when the config cannot be had.
   */
  async start(model: string): Promise<PrefetchPlan> {
    const { resolver, signal } = this.#options;
    const resolved = await resolver.resolve(model, signal);
    const config = await loadModelConfig(resolved.dir);
    const current = this.#options.view();
    const shards = planRequest(current, config.numLayers);
    const mine = shards.find((shard) => shard.nodeId === current.selfId);
    if (mine === undefined) {
      throw new ClusterUnavailableError(`the current plan gives node ${current.selfId} no layers`);
    }
    this.#fetchShare(resolved.id, mine.startLayer, mine.endLayer);
    for (const shard of shards) {
      if (shard.nodeId !== current.selfId) this.#ask(resolved.id, shard);
    }
    return { model: resolved.id, startLayer: mine.startLayer, endLayer: mine.endLayer, shards };
  }

  /**
   * Takes a peer's status JSON when it is a prefetch request: a valid one starts fetching
   * that share, a malformed one is logged and ignored. Returns whether it was one.
   */
  onStatus(json: string, from: string): boolean {
    let request;
    try {
      request = parsePrefetchRequest(json);
    } catch (error) {
      this.#options.logger.warn(
        `Ignoring a prefetch request from ${from}: ${(error as Error).message}`,
      );
      return true;
    }
    if (request === null) return false;
    const { model, startLayer, endLayer } = request;
    this.#options.logger.info(
      `Node ${from} asks for layers ${startLayer}..${endLayer} of ${JSON.stringify(model)}`,
    );
    this.#fetchShare(model, startLayer, endLayer);
    return true;
  }

  /** Waits for every fetch and ask to end (the owner aborts the signal first). */
  async close(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  #ask(model: string, shard: ShardRange): void {
    const { startLayer, endLayer, nodeId } = shard;
    const json = prefetchRequestJson(model, startLayer, endLayer);
    this.#track(
      this.#options.send(nodeId, { type: "status", json }).catch((error) =>
        this.#options.logger.warn(
          `Cannot ask ${nodeId} to prefetch layers ${startLayer}..${endLayer} of ${model}: ${
            describeError(error)
          }`,
        )
      ),
    );
  }

  /** Fetches config and tokenizer, then the weight files of the layers, in the background. */
  #fetchShare(model: string, startLayer: number, endLayer: number): void {
    const { resolver, signal, logger } = this.#options;
    const layers = `layers ${startLayer}..${endLayer} of ${model}`;
    const key = `${model}\n${startLayer}\n${endLayer}`;
    if (signal.aborted || this.#running.has(key)) {
      logger.debug(`Not prefetching ${layers} again: ${signal.aborted ? "stopping" : "under way"}`);
      return;
    }
    this.#running.add(key);
    const since = Date.now();
    this.#track((async () => {
      try {
        await resolver.resolve(model, signal);
        await resolver.resolveShard(model, startLayer, endLayer, signal);
        logger.info(`Prefetched ${layers}`);
        this.#reportUnlessTracked(model, since);
      } catch (error) {
        if (signal.aborted) {
          logger.debug(`Stopped prefetching ${layers}: ${(error as Error).message}`);
          return;
        }
        logger.warn(`Cannot prefetch ${layers}: ${(error as Error).message}`);
        this.#reportUnlessTracked(model, since, error as Error);
      } finally {
        this.#running.delete(key);
      }
    })());
  }

  /**
   * Publishes the end of a share as a download event unless the download already did:
   * without it a share that failed before any download began (a name this node cannot
   * resolve, `--offline`), or that found every file here, would not show on other nodes.
   */
  #reportUnlessTracked(model: string, since: number, error?: Error): void {
    const board = this.#options.downloads;
    if (board === undefined) return;
    const latest = board.latest(this.#options.selfId, model);
    if (
      latest !== undefined && latest.at >= since && latest.status !== "downloading" &&
      (error === undefined || latest.error !== undefined)
    ) {
      return;
    }
    const ids = { nodeId: this.#options.selfId, model, repo: findModelCard(model)?.repo ?? model };
    board.publish(endedDownloadEvent(ids, error?.message));
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }
}
