import { parseStatusObject } from "../protocol/status_json.ts";

/** Where one provider ran how many of a shard's nodes. */
export interface ProviderNodes {
  provider: string;
  nodes: number;
}

/** A node's loaded shard and where ONNX Runtime runs it: the JSON of a `status` message. */
export interface EngineReport {
  event: "engine";
  nodeId: string;
  model: string;
  startLayer: number;
  endLayer: number;
  dtype: string;
  /** The provider asked for (`--execution-provider`). */
  requestedProvider: string;
  /** The provider the session runs on (CPU after a fallback). */
  activeProvider: string;
  fallbackReason: string | null;
  /** Nodes per ORT provider, most first. */
  placement: ProviderNodes[];
  /** When the shard was loaded, ms since the epoch. */
  at: number;
}

const MAX_TEXT = 4096;
const MAX_PROVIDERS = 16;

/**
 * Parses a peer's status JSON into an engine report, field by field (a peer's bytes are
 * not trusted); null when it is another event or malformed.
 */
export function parseEngineReport(json: string): EngineReport | null {
  const value = parseStatusObject(json);
  if (value === null || value.event !== "engine") return null;
  const text = (v: unknown) => typeof v === "string" && v.length <= MAX_TEXT;
  const layer = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const { nodeId, model, startLayer, endLayer, dtype, requestedProvider, activeProvider } = value;
  if (
    !text(nodeId) || !text(model) || !layer(startLayer) || !layer(endLayer) ||
    (endLayer as number) < (startLayer as number) || !text(dtype) ||
    !text(requestedProvider) || !text(activeProvider) ||
    !(value.fallbackReason === null || text(value.fallbackReason)) ||
    !Array.isArray(value.placement) || value.placement.length > MAX_PROVIDERS ||
    typeof value.at !== "number" || !Number.isFinite(value.at)
  ) {
    return null;
  }
  const placement: ProviderNodes[] = [];
  for (const entry of value.placement as unknown[]) {
    const p = entry as Partial<ProviderNodes> | null;
    if (p === null || typeof p !== "object" || !text(p.provider) || !layer(p.nodes)) return null;
    placement.push({ provider: p.provider!, nodes: p.nodes! });
  }
  return {
    event: "engine",
    nodeId: nodeId as string,
    model: model as string,
    startLayer: startLayer as number,
    endLayer: endLayer as number,
    dtype: dtype as string,
    requestedProvider: requestedProvider as string,
    activeProvider: activeProvider as string,
    fallbackReason: value.fallbackReason as string | null,
    placement,
    at: value.at,
  };
}

/** The latest engine report of every node: this one's and those peers send. */
export class EngineBoard {
  #latest = new Map<string, EngineReport>();

  /** Records this node's report. */
  publish(report: EngineReport): void {
    this.#latest.set(report.nodeId, report);
  }

  /**
   * Records a peer's status JSON when it is an engine report (the node id is the sender's,
   * whatever the JSON says); returns whether it was one.
   */
  fromPeer(json: string, from: string): boolean {
    if (parseStatusObject(json)?.event !== "engine") return false;
    // A malformed report is dropped here: no other part of the node reads engine events.
    const report = parseEngineReport(json);
    if (report !== null) this.#latest.set(from, { ...report, nodeId: from });
    return true;
  }

  /** Forgets a node's report (it left; a restarted node reports again once it loads). */
  forget(nodeId: string): void {
    this.#latest.delete(nodeId);
  }

  /** A node's latest report, or undefined. */
  get(nodeId: string): EngineReport | undefined {
    return this.#latest.get(nodeId);
  }
}
