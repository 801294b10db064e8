/**
 * Where each model stands on the cluster, from `/v1/models` and every node's download
 * progress: on this node, downloading (per node), failed, or not downloaded; and whether
 * the cluster's memory can hold it.
 * @module
 */
import type { DownloadProgress, ModelInfo, Topology } from "./api_client.ts";

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
 * How long a failed download stays listed after its last event: long enough to be read
 * and retried, short enough that an old failure does not mark the model for good.
 */
export const FAILED_SHOWN_MS = 10 * 60_000;

/**
 * The download events worth showing at `now` (ms since the epoch, the clock the nodes
 * stamp `updated_at` with): without those in `hidden` (see {@linkcode eventKey}: a deleted
 * model's old events, failures the user dismissed or that were a 404 answer) and without
 * failures older than {@linkcode FAILED_SHOWN_MS}.
 */
export function shownDownloads(
  progress: readonly DownloadProgress[],
  hidden: ReadonlySet<string>,
  now: number,
): DownloadProgress[] {
  return progress.filter((p) =>
    !hidden.has(eventKey(p)) && !(p.status === "failed" && now - p.updated_at > FAILED_SHOWN_MS)
  );
}

/**
 * Combines the model list with the download progress of every node (as
 * {@linkcode shownDownloads} leaves it: a node keeps a model's last event after the model
 * is deleted, and that old "done" must not make it look present).
 */
export function modelStatuses(
  models: readonly ModelInfo[],
  progress: readonly DownloadProgress[],
): ModelStatus[] {
  return models.map((info) => statusOf(info, progress.filter((p) => p.model === info.id)));
}

/** Identifies one download event: its node, model and time. */
export function eventKey(event: DownloadProgress): string {
  return `${event.node_id}\n${event.model}\n${event.updated_at}`;
}

function statusOf(info: ModelInfo, downloads: DownloadProgress[]): ModelStatus {
  const running = downloads.filter((d) => d.status === "downloading");
  const failed = downloads.find((d) => d.status === "failed");
  const state: ModelState = running.length > 0
    ? "downloading"
    : failed !== undefined
    ? "failed"
    : info.available_locally || downloads.some((d) => d.status === "done")
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
    error: failed === undefined ? null : failed.error ?? "the download failed",
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

/** The memory of the cluster's nodes that answer, in bytes (the nodes report MB). */
export function clusterMemoryBytes(topology: Topology | null): number | null {
  if (topology === null) return null;
  const mb = topology.nodes.filter((n) => n.alive)
    .reduce((sum, n) => sum + n.capabilities.memory, 0);
  return mb > 0 ? mb * 1024 * 1024 : null;
}

/** A model's memory need beside the cluster's memory. */
export interface MemoryFit {
  /** Bytes the cluster needs to run the model. */
  needs: number;
  /** Bytes of memory the answering nodes have together. */
  has: number;
  fits: boolean;
}

/** Whether the cluster can hold `info`; null when either side is not known. */
export function memoryFit(info: ModelInfo, clusterBytes: number | null): MemoryFit | null {
  const needs = info.memory_bytes;
  if (typeof needs !== "number" || clusterBytes === null) return null;
  return { needs, has: clusterBytes, fits: needs <= clusterBytes };
}
