import { parseStatusObject } from "../protocol/status_json.ts";
import type { ShardRange } from "../topology/partition.ts";

/** A node's report about loading the shard of a request, sent to the request's origin. */
export interface ShardStatus {
  event: "shard";
  nodeId: string;
  requestId: string;
  model: string;
  startLayer: number;
  endLayer: number;
  /** "loading", "loaded" or "failed". */
  state: string;
  /** Load time (loaded), cache use and provider, or the error (failed). */
  ms?: number;
  cacheHit?: boolean;
  executionProvider?: string;
  /** Where the shard's nodes run, as one line (see describePlacement). */
  placement?: string;
  error?: string;
}

/** Renders a shard status event as the JSON of a status message. */
export function shardStatusJson(
  nodeId: string,
  request: { id: string; meta: { model: string }; range: ShardRange },
  state: string,
  extra: Partial<ShardStatus>,
): string {
  const status: ShardStatus = {
    event: "shard",
    nodeId,
    requestId: request.id,
    model: request.meta.model,
    startLayer: request.range.startLayer,
    endLayer: request.range.endLayer,
    state,
    ...extra,
  };
  return JSON.stringify(status);
}

/** Describes a status message's JSON for the log, or null when it is not a shard status. */
export function describeShardStatus(json: string): string | null {
  const value = parseStatusObject(json);
  if (value === null) return null;
  const status = value as Partial<ShardStatus>;
  if (status.event !== "shard" || typeof status.state !== "string") return null;
  const layers = `layers ${status.startLayer}..${status.endLayer} of ${status.model}`;
  switch (status.state) {
    case "loading":
      return `Node ${status.nodeId} is loading ${layers}`;
    case "loaded":
      return `Node ${status.nodeId} loaded ${layers} in ${status.ms} ms (${
        status.cacheHit ? "cached graph" : "built graph"
      }, ${status.executionProvider}${
        typeof status.placement === "string" ? `: ${status.placement}` : ""
      })`;
    default:
      return `Node ${status.nodeId} failed to load ${layers}: ${status.error}`;
  }
}
