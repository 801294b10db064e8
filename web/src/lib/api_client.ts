/**
 * The page's calls to the node it was loaded from, typed after the node's answers. Every
 * failure is a {@linkcode NodeApiError}, so callers show one kind of message.
 * @module
 */
import { errorFromResponse, NodeApiError, unreachable } from "./api_error.ts";
import type { TopologyAuto } from "../../../lib/node/topology_auto.ts";

/** One entry of `GET /v1/models`. */
export interface ModelInfo {
  id: string;
  name: string;
  available_locally: boolean;
  is_default?: boolean;
  /** Bytes `DELETE /models/{id}` frees on this node; null when it has no download. */
  local_bytes?: number | null;
  /** The model's parameters; null (or absent, from an older node) when not known. */
  parameters?: number | null;
  /** About how many bytes the checkpoint is on the hub (bf16); null when not known. */
  download_bytes?: number | null;
  /** About how much memory the whole cluster needs to run it; null when not known. */
  memory_bytes?: number | null;
}

/** Where a download is: `done` and `failed` are final. */
export type DownloadState = "downloading" | "done" | "failed";

/** One node's latest download event (`GET /v1/download/progress`). */
export interface DownloadProgress {
  node_id: string;
  model: string;
  bytes: number;
  total_bytes: number;
  speed: number;
  eta: number | null;
  status: DownloadState;
  /** True once every file is present; never for a failed download. */
  done: boolean;
  /** Why a failed download stopped. */
  error: string | null;
  updated_at: number;
}

/** A node's capabilities as the topology shows them. */
export interface Capabilities {
  model: string;
  chip: string;
  memory: number;
  flops: { fp32: number; fp16: number; int8: number };
}

/** A node's loaded shard and where ONNX Runtime runs it. */
export interface TopologyEngine {
  model: string;
  start_layer: number;
  end_layer: number;
  dtype: string;
  requested_provider: string;
  active_provider: string;
  fallback_reason: string | null;
  placement: { provider: string; nodes: number }[];
  /** What `--execution-provider auto` measured; null (or absent, from older nodes) when named. */
  auto?: TopologyAuto | null;
}

/** What `--execution-provider auto` measured for a node's shard and chose (the node's type). */
export type { TopologyAuto } from "../../../lib/node/topology_auto.ts";

/** One provider auto tried: its speeds over the shard, or why it is out. */
export type AutoCandidate = TopologyAuto["candidates"][number];

/** One node of `GET /v1/topology`. */
export interface TopologyNode {
  id: string;
  capabilities: Capabilities;
  alive: boolean;
  hops: number;
  address: string | null;
  rtt_ms: number | null;
  /** Absent from nodes older than this page. */
  engine?: TopologyEngine | null;
}

/** One node's layers in the split. */
export interface PartitionShard {
  node_id: string;
  start_layer: number;
  end_layer: number;
}

/** `GET /v1/topology`. */
export interface Topology {
  node_id: string;
  nodes: TopologyNode[];
  edges: { from: string; to: string }[];
  partition: { model: string; num_layers: number; shards: PartitionShard[] } | null;
}

/** The answer to `POST /download`. */
export interface DownloadStarted {
  model: string;
  shards?: PartitionShard[];
}

/** A chat message as the API takes it. */
export interface ApiMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** The body of a streamed chat request. */
export interface ChatRequest {
  model: string;
  messages: ApiMessage[];
  temperature?: number;
  max_tokens?: number;
}

/** Talks to one node's API, adding the API key when there is one. */
export class ApiClient {
  readonly base: string;
  #key: () => string | null;
  #fetch: typeof fetch;

  /** `base` is the node's origin; `key` reads the current API key. */
  constructor(base: string, key: () => string | null, fetcher: typeof fetch = fetch) {
    this.base = base.replace(/\/+$/, "");
    this.#key = key;
    // Called as a method, the browser's fetch throws "Illegal invocation".
    this.#fetch = (input, init) => fetcher(input, init);
  }

  /** `GET /v1/models`. */
  async models(): Promise<ModelInfo[]> {
    const body = await this.#json<{ data: ModelInfo[] }>("/v1/models");
    return body.data;
  }

  /** `GET /v1/topology`, with the layer split of `model` when given. */
  topology(model: string | null): Promise<Topology> {
    const query = model === null ? "" : `?model=${encodeURIComponent(model)}`;
    return this.#json<Topology>(`/v1/topology${query}`);
  }

  /** `GET /v1/download/progress`. */
  async progress(): Promise<DownloadProgress[]> {
    const body = await this.#json<{ data: DownloadProgress[] }>("/v1/download/progress");
    return body.data;
  }

  /** `POST /download`: every node of the split fetches its layers of `model`. */
  download(model: string): Promise<DownloadStarted> {
    return this.#json<DownloadStarted>("/download", { method: "POST", body: { model } });
  }

  /** `DELETE /models/{id}`: removes this node's copy. */
  async remove(model: string): Promise<void> {
    await this.#json(`/models/${model.split("/").map(encodeURIComponent).join("/")}`, {
      method: "DELETE",
    });
  }

  /**
   * Starts a streamed chat completion; resolves to the response once its headers are in.
   * `signal` aborts it, which cancels the request on every node.
   */
  async chat(request: ChatRequest, signal: AbortSignal): Promise<Response> {
    const response = await this.#send("/v1/chat/completions", {
      method: "POST",
      body: { ...request, stream: true, stream_options: { include_usage: true } },
      signal,
    });
    if (response.body === null) {
      throw new NodeApiError(500, "The node answered the chat request with an empty body");
    }
    return response;
  }

  async #json<T>(
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<T> {
    const response = await this.#send(path, init);
    try {
      return await response.json() as T;
    } catch (error) {
      throw new NodeApiError(
        response.status,
        `The node's answer to ${path} is not JSON: ${(error as Error).message}`,
      );
    }
  }

  async #send(
    path: string,
    init: { method?: string; body?: unknown; signal?: AbortSignal },
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    const key = this.#key();
    if (key) headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(`${this.base}${path}`, {
        method: init.method ?? "GET",
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw unreachable(this.base, error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }
}
