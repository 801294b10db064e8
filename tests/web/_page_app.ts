/**
 * The node's real HTTP app (page, API, access rules) over scripted fakes of the node: two
 * nodes in the topology, a FakeCompletionService, downloads the test drives by hand.
 * Served on a free loopback port for a real browser.
 * @module
 */
import { createApp } from "../../lib/api/app.ts";
import type { ApiError } from "../../lib/api/api_error.ts";
import type { AccessRules } from "../../lib/api/access_policy.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";
import type { TopologyEngine, TopologySnapshot } from "../../lib/node/topology_snapshot.ts";
import { MODEL_CARDS, modelSize } from "../../lib/model/registry.ts";
import { FakeCompletionService } from "../api/_fake_service.ts";

// 24,105 MB together: the cluster of issue 27, where a 70B model does not fit.
const CAPS = {
  mac1: {
    model: "Mac mini",
    chip: "Apple M2",
    memory: 8192,
    flops: { fp32: 3.55, fp16: 7.1, int8: 14.2 },
  },
  mac2: {
    model: "MacBook Pro",
    chip: "Apple M1 Pro",
    memory: 15913,
    flops: { fp32: 5.3, fp16: 10.6, int8: 21.2 },
  },
};

/** Node ids and layers of the fake cluster's split, for any model: 16 layers, ~1:2 by memory. */
export const SHARDS = [
  { node_id: "mac2", start_layer: 0, end_layer: 10 },
  { node_id: "mac1", start_layer: 11, end_layer: 15 },
];

/** A loaded shard on `provider` with the given nodes per ORT provider. */
function engine(provider: string, placement: [string, number][]): TopologyEngine {
  return {
    model: "llama-3.2-1b",
    start_layer: 0,
    end_layer: 10,
    dtype: provider === "coreml" ? "float16" : "q4",
    requested_provider: provider,
    active_provider: provider,
    fallback_reason: null,
    placement: placement.map(([p, nodes]) => ({ provider: p, nodes })),
    loaded_at: 0,
  };
}

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

/** Serves the app over fakes on 127.0.0.1; `access` sets the API key or origins. */
export function servePage(access: AccessRules = {}): PageServer {
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
  const topology = (model?: string): Promise<TopologySnapshot> =>
    Promise.resolve({
      node_id: "mac1",
      nodes: [
        {
          id: "mac1",
          capabilities: CAPS.mac1,
          alive: true,
          hops: 0,
          via: null,
          address: null,
          rtt_ms: null,
          engine: engine("coreml", [["CPUExecutionProvider", 118], ["CoreMLExecutionProvider", 4]]),
        },
        {
          id: "mac2",
          capabilities: CAPS.mac2,
          alive: true,
          hops: 1,
          via: null,
          address: "127.0.0.1:50052",
          rtt_ms: 0.8,
          engine: engine("webgpu", [["WebGpuExecutionProvider", 122]]),
        },
      ],
      edges: [{ from: "mac1", to: "mac2" }, { from: "mac2", to: "mac1" }],
      partition: { model: model ?? "llama-3.2-1b", num_layers: 16, shards: SHARDS },
    });
  const app = createApp({
    nodeId: "mac1",
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
          for (const node of ["mac1", "mac2"]) {
            downloads.set(node, model, 0, 0, false, failure.message);
          }
          return Promise.reject(failure);
        }
        return Promise.resolve({
          model,
          startLayer: 11,
          endLayer: 15,
          shards: SHARDS.map((s) => ({
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
