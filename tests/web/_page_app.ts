/**
 * The node's real HTTP app (page, API, access rules) over scripted fakes of the node: a
 * cluster of _fake_cluster.ts in the topology, a FakeCompletionService, downloads the test
 * drives by hand.
 * Served on a free loopback port for a real browser.
 * @module
 */
import { createApp } from "../../lib/api/app.ts";
import type { ApiError } from "../../lib/api/api_error.ts";
import type { AccessRules } from "../../lib/api/access_policy.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";
import type { TopologySnapshot } from "../../lib/node/topology_snapshot.ts";
import { MODEL_CARDS, modelSize } from "../../lib/model/registry.ts";
import { FakeCompletionService } from "../api/_fake_service.ts";
import { type FakeCluster, twoMacs } from "./_fake_cluster.ts";

/** Downloads the test moves forward by hand. */
export class FakeDownloads {
  readonly events = new Map<string, DownloadEvent>();
  readonly prefetched: string[] = [];
  readonly removed: string[] = [];
  /**
   * Set: the next `POST /download` answers this error, and (as a node whose downloader
   * failed does) each node publishes a failed event with its message. Cleared when used.
   */
  failNext: ApiError | null = null;

  /** Sets one node's progress on a model. */
  set(
    nodeId: string,
    model: string,
    bytes: number,
    totalBytes: number,
    done = false,
    error?: string,
  ): void {
    this.events.set(`${nodeId}\n${model}`, {
      event: "download",
      nodeId,
      model,
      repo: model,
      file: "model.safetensors",
      bytes,
      totalBytes,
      speed: done ? 0 : 12_500_000,
      eta: error !== undefined ? null : done ? 0 : Math.round((totalBytes - bytes) / 12_500_000),
      status: error !== undefined ? "failed" : done ? "done" : "downloading",
      done: done && error === undefined,
      ...(error === undefined ? {} : { error }),
      files: [],
      at: Date.now(),
    });
  }
}

/** A served fake node. */
export interface PageServer {
  url: string;
  service: FakeCompletionService;
  downloads: FakeDownloads;
  close(): Promise<void>;
}

/**
 * Serves the app over fakes on 127.0.0.1: `access` sets the API key or origins, `cluster`
 * what `/v1/topology` answers (its first node is the one serving the page).
 */
export function servePage(
  access: AccessRules = {},
  cluster: FakeCluster = twoMacs(),
): PageServer {
  const service = new FakeCompletionService();
  service.modelList.push(
    {
      id: "qwen-3-0.6b",
      name: "Qwen 3 0.6B",
      availableLocally: false,
      localBytes: null,
      isDefault: false,
    },
    {
      id: "llama-3.1-70b",
      name: "Llama 3.1 70B",
      availableLocally: false,
      localBytes: null,
      isDefault: false,
    },
  );
  for (const entry of service.modelList) {
    const card = MODEL_CARDS.get(entry.id);
    if (card !== undefined) entry.size = modelSize(card, "q4");
  }
  const downloads = new FakeDownloads();
  const self = cluster.nodes[0].id;
  const topology = (model?: string): Promise<TopologySnapshot> =>
    Promise.resolve({
      node_id: self,
      nodes: cluster.nodes,
      edges: cluster.nodes.flatMap((a) =>
        cluster.nodes.filter((b) => b !== a).map((b) => ({ from: a.id, to: b.id }))
      ),
      partition: { model: model ?? "llama-3.2-1b", num_layers: 16, shards: cluster.shards },
    });
  const app = createApp({
    nodeId: self,
    topology,
    echoTensor: () => Promise.reject(new Error("Cannot echo: a fake node")),
    completions: service,
    limits: { maxBodyBytes: 1 << 20, defaultModel: "llama-3.2-1b", maxGenerateTokens: 256 },
    downloads: {
      progress: () => [...downloads.events.values()],
      prefetch: (model) => {
        downloads.prefetched.push(model);
        const failure = downloads.failNext;
        if (failure !== null) {
          downloads.failNext = null;
          for (const { id: node } of cluster.nodes) {
            downloads.set(node, model, 0, 0, false, failure.message);
          }
          return Promise.reject(failure);
        }
        const own = cluster.shards.find((s) => s.node_id === self)!;
        return Promise.resolve({
          model,
          startLayer: own.start_layer,
          endLayer: own.end_layer,
          shards: cluster.shards.map((s) => ({
            nodeId: s.node_id,
            startLayer: s.start_layer,
            endLayer: s.end_layer,
          })),
        });
      },
      remove: (model) => {
        downloads.removed.push(model);
        const entry = service.modelList.find((m) => m.id === model);
        if (entry === undefined || entry.localBytes === null) return Promise.resolve(null);
        const freed = entry.localBytes;
        entry.availableLocally = false;
        entry.localBytes = null;
        return Promise.resolve(freed);
      },
    },
    access,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    service,
    downloads,
    close: () => server.shutdown(),
  };
}
