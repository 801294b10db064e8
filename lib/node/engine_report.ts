import { parseStatusObject } from "../protocol/status_json.ts";

/** Where one provider ran how many of a shard's nodes. */
export interface ProviderNodes {
  provider: string;
  nodes: number;
}

/** One provider `--execution-provider auto` tried: its speed over the shard, or why it is out. */
export interface CandidateReport {
  provider: string;
  dtype: string;
  /** Decode tokens/s; null when out. */
  decodeTokensPerSecond: number | null;
  /** Prompt tokens/s; null when out. */
  prefillTokensPerSecond: number | null;
  /** Why the candidate is out, or null. */
  out: string | null;
}

/** What `--execution-provider auto` measured and chose for the shard. */
export interface AutoReport {
  /** The provider chosen. */
  provider: string;
  dtype: string;
  /** Every candidate, in the order tried. */
  candidates: CandidateReport[];
  /** The layers checked and timed. */
  probeLayers: { startLayer: number; endLayer: number };
  /** Whether the figures are projected from those layers to the shard's. */
  projected: boolean;
  /** When the candidates were measured, ms since the epoch. */
  measuredAt: number;
  /** Whether the choice was kept from an earlier start rather than measured at this load. */
  cached: boolean;
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
  /**
   * What auto measured, null when the provider was named; a report without it (from an
   * older build) reads as null.
   */
  auto?: AutoReport | null;
  /** When the shard was loaded, ms since the epoch. */
  at: number;
}

const MAX_TEXT = 4096;
const MAX_PROVIDERS = 16;
const MAX_CANDIDATES = 8;

/**
 * Parses a peer's status JSON into an engine report, field by field (a peer's bytes are
 * not trusted); null when it is another event or malformed.
 */
export function parseEngineReport(json: string): EngineReport | null {
  const value = parseStatusObject(json);
  if (value === null || value.event !== "engine") return null;
  const { nodeId, model, startLayer, endLayer, dtype, requestedProvider, activeProvider } = value;
  if (
    !isText(nodeId) || !isText(model) || !isLayer(startLayer) || !isLayer(endLayer) ||
    (endLayer as number) < (startLayer as number) || !isText(dtype) ||
    !isText(requestedProvider) || !isText(activeProvider) ||
    !(value.fallbackReason === null || isText(value.fallbackReason)) ||
    !Array.isArray(value.placement) || value.placement.length > MAX_PROVIDERS ||
    typeof value.at !== "number" || !Number.isFinite(value.at)
  ) {
    return null;
  }
  const placement: ProviderNodes[] = [];
  for (const entry of value.placement as unknown[]) {
    const p = entry as Partial<ProviderNodes> | null;
    if (p === null || typeof p !== "object" || !isText(p.provider) || !isLayer(p.nodes)) {
      return null;
    }
    placement.push({ provider: p.provider!, nodes: p.nodes! });
  }
  const auto = value.auto === undefined || value.auto === null ? null : parseAuto(value.auto);
  if (auto === undefined) return null;
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
    auto,
    at: value.at,
  };
}

/** A peer's auto report, field by field; undefined when malformed. */
function parseAuto(value: unknown): AutoReport | undefined {
  const a = value as Record<string, unknown>;
  if (typeof a !== "object" || Array.isArray(a)) return undefined;
  const layers = a.probeLayers as Record<string, unknown> | null;
  if (
    !isText(a.provider) || !isText(a.dtype) || typeof a.projected !== "boolean" ||
    typeof a.cached !== "boolean" || !Number.isFinite(a.measuredAt) ||
    typeof layers !== "object" || layers === null || !isLayer(layers.startLayer) ||
    !isLayer(layers.endLayer) || (layers.endLayer as number) < (layers.startLayer as number) ||
    !Array.isArray(a.candidates) || a.candidates.length > MAX_CANDIDATES
  ) {
    return undefined;
  }
  const candidates: CandidateReport[] = [];
  for (const entry of a.candidates as unknown[]) {
    const c = entry as Record<string, unknown> | null;
    if (
      typeof c !== "object" || c === null || !isText(c.provider) || !isText(c.dtype) ||
      !isRate(c.decodeTokensPerSecond) || !isRate(c.prefillTokensPerSecond) ||
      !(c.out === null || isText(c.out))
    ) {
      return undefined;
    }
    candidates.push({
      provider: c.provider as string,
      dtype: c.dtype as string,
      decodeTokensPerSecond: c.decodeTokensPerSecond as number | null,
      prefillTokensPerSecond: c.prefillTokensPerSecond as number | null,
      out: c.out as string | null,
    });
  }
  return {
    provider: a.provider as string,
    dtype: a.dtype as string,
    candidates,
    probeLayers: { startLayer: layers.startLayer as number, endLayer: layers.endLayer as number },
    projected: a.projected,
    measuredAt: a.measuredAt as number,
    cached: a.cached,
  };
}

function isText(v: unknown): boolean {
  return typeof v === "string" && v.length <= MAX_TEXT;
}

function isLayer(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isRate(v: unknown): boolean {
  return v === null || (typeof v === "number" && Number.isFinite(v) && v >= 0);
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
