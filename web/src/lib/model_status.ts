/**
 * Where each model stands on the cluster, from `/v1/models` and every node's download
 * progress: on this node, downloading (per node), failed, or not downloaded.
 * @module
 */
import type { DownloadProgress, ModelInfo } from "./api_client.ts";

/** A model's state as the picker shows it. */
export type ModelState = "local" | "downloading" | "failed" | "absent";

/** A model with its state and every node's download of it. */
export interface ModelStatus {
  info: ModelInfo;
  state: ModelState;
  /** The latest download event of each node for this model, by node id. */
  downloads: DownloadProgress[];
  /** Bytes and total over the nodes still downloading, for one bar. */
  bytes: number;
  totalBytes: number;
  /** The slowest node's seconds left; null while unknown. */
  eta: number | null;
  /** Sum of the nodes' speeds, bytes per second. */
  speed: number;
  /** The first node's failure, when one failed. */
  error: string | null;
}

/**
 * Combines the model list with the download progress of every node. Events named in
 * `stale` (see {@linkcode eventKey}) are left out: a node keeps a model's last event after
 * the model is deleted, and that old "done" must not make it look present.
 */
export function modelStatuses(
  models: readonly ModelInfo[],
  progress: readonly DownloadProgress[],
  stale: ReadonlySet<string> = new Set(),
): ModelStatus[] {
  const current = progress.filter((p) => !stale.has(eventKey(p)));
  return models.map((info) => statusOf(info, current.filter((p) => p.model === info.id)));
}

/** Identifies one download event: its node, model and time. */
export function eventKey(event: DownloadProgress): string {
  return `${event.node_id}\n${event.model}\n${event.updated_at}`;
}

function statusOf(info: ModelInfo, downloads: DownloadProgress[]): ModelStatus {
  const running = downloads.filter((d) => !d.done && d.error === null);
  const failed = downloads.find((d) => d.error !== null);
  const state: ModelState = running.length > 0
    ? "downloading"
    : failed !== undefined
    ? "failed"
    : info.available_locally || downloads.some((d) => d.done)
    ? "local"
    : "absent";
  const etas = running.map((d) => d.eta);
  return {
    info,
    state,
    downloads,
    bytes: running.reduce((sum, d) => sum + d.bytes, 0),
    totalBytes: running.reduce((sum, d) => sum + d.total_bytes, 0),
    eta: etas.length === 0 || etas.includes(null) ? null : Math.max(...(etas as number[])),
    speed: running.reduce((sum, d) => sum + d.speed, 0),
    error: failed?.error ?? null,
  };
}

/** Picker order: local models, then downloading, failed, the rest; by name within each. */
export function sortForPicker(statuses: readonly ModelStatus[]): ModelStatus[] {
  const rank: Record<ModelState, number> = { local: 0, downloading: 1, failed: 2, absent: 3 };
  return [...statuses].sort((a, b) =>
    rank[a.state] - rank[b.state] || a.info.name.localeCompare(b.info.name)
  );
}

/**
 * Whether a message for `model` can go now: "ready", "wait" while any node still
 * downloads it (or it has no files yet), or the failure to show.
 */
export function readiness(
  status: ModelStatus | undefined,
): { kind: "ready" } | { kind: "wait" } | { kind: "failed"; error: string } {
  if (status === undefined) return { kind: "ready" }; // Unknown here: let the node answer.
  switch (status.state) {
    case "local":
      return { kind: "ready" };
    case "downloading":
    case "absent":
      return { kind: "wait" };
    case "failed":
      return { kind: "failed", error: status.error ?? "the download failed" };
  }
}
