import { type Context, Hono } from "hono";
import { ApiError } from "./api_error.ts";
import { readJsonBody } from "./read_json_body.ts";
import { toApiError } from "./to_api_error.ts";
import type { DownloadEvent } from "../model/download_progress.ts";
import { HubAccessError } from "../model/hub_access_error.ts";

/** The layers a prefetch fetches on this node, and the whole plan it asked of the cluster. */
export interface PrefetchResult {
  model: string;
  startLayer: number;
  endLayer: number;
  /** Every node of the plan and its layers, this node included. */
  shards: { nodeId: string; startLayer: number; endLayer: number }[];
}

/** What the download routes need from the node. */
export interface DownloadDeps {
  /** The latest download event of every node (this one and its peers), per model. */
  progress(): DownloadEvent[];
  /** Starts downloading every node's shard of `model` in the current plan. */
  prefetch(model: string): Promise<PrefetchResult>;
  /** Deletes the local copy of `model`; resolves to the bytes freed, null when there was none. */
  remove(model: string): Promise<number | null>;
}

/**
 * `GET /v1/download/progress` shows every node's download progress; `POST /download`
 * (`{"model"}`) prefetches every node's shard of the current plan and answers 202 with this
 * node's layers and the plan; `DELETE /models/{id}` removes the local copy of a model (ids
 * may hold slashes) and says how many bytes that freed. The last two are also under `/v1`.
 */
export function downloadsRoute(deps: DownloadDeps, maxBodyBytes: number): Hono {
  const route = new Hono();
  route.get(
    "/v1/download/progress",
    (c) => c.json({ object: "list", data: deps.progress().map(toProgress) }),
  );

  const prefetch = async (c: Context) => {
    const body = await readJsonBody(c.req.raw, maxBodyBytes);
    const model = body.model;
    if (typeof model !== "string" || model.trim() === "") {
      throw new ApiError(400, "model must be a model name", { param: "model" });
    }
    const plan = await hubErrors(() => deps.prefetch(model));
    return c.json({
      model: plan.model,
      start_layer: plan.startLayer,
      end_layer: plan.endLayer,
      status: "downloading",
      shards: plan.shards.map((shard) => ({
        node_id: shard.nodeId,
        start_layer: shard.startLayer,
        end_layer: shard.endLayer,
      })),
    }, 202);
  };
  route.post("/download", prefetch);
  route.post("/v1/download", prefetch);

  const remove = async (c: Context) => {
    const id = c.req.param("id") ?? "";
    const freed = await hubErrors(() => deps.remove(id));
    if (freed === null) {
      throw new ApiError(404, `Model ${JSON.stringify(id)} has no local copy on this node`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json({ id, object: "model", deleted: true, freed_bytes: freed });
  };
  route.delete("/models/:id{.+}", remove);
  route.delete("/v1/models/:id{.+}", remove);
  return route;
}

async function hubErrors<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof HubAccessError) {
      throw new ApiError(403, error.message, { param: "model", code: "hub_access_denied" });
    }
    throw toApiError(error);
  }
}

function toProgress(event: DownloadEvent) {
  return {
    node_id: event.nodeId,
    model: event.model,
    repo: event.repo,
    file: event.file,
    bytes: event.bytes,
    total_bytes: event.totalBytes,
    speed: event.speed,
    eta: event.eta,
    status: event.status,
    done: event.done,
    error: event.error ?? null,
    files: event.files.map((f) => ({
      file: f.file,
      bytes: f.bytes,
      total_bytes: f.totalBytes,
      done: f.done,
    })),
    updated_at: event.at,
  };
}
