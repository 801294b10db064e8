import { parseStatusObject } from "../protocol/status_json.ts";

/** Longest model name a prefetch request may carry (an absolute directory at most). */
export const MAX_PREFETCH_MODEL_LENGTH = 4096;

/** Highest layer index a prefetch request may name; real models have a few hundred at most. */
export const MAX_PREFETCH_LAYER = 9999;

/**
 * One node asking another to download its share of a model (the JSON of a `status`
 * message): the layers `startLayer..endLayer` (inclusive) of `model`.
 */
export interface PrefetchRequest {
  event: "prefetch";
  /** The model as every node resolves it: a registry id, a hub repo id or a local directory. */
  model: string;
  startLayer: number;
  endLayer: number;
}

/** Renders a prefetch request as the JSON of a status message. */
export function prefetchRequestJson(model: string, startLayer: number, endLayer: number): string {
  const request: PrefetchRequest = { event: "prefetch", model, startLayer, endLayer };
  return JSON.stringify(request);
}

/**
 * Parses a status message's JSON from a peer into a prefetch request; null when it is
 * another kind of event (or not an event at all).
 * @throws {TypeError} when it is a prefetch request with a field missing or of the wrong type.
 * @throws {RangeError} for a blank or overlong model name, or layers out of order or bounds.
 */
export function parsePrefetchRequest(json: string): PrefetchRequest | null {
  const value = parseStatusObject(json);
  if (value === null || Array.isArray(value) || value.event !== "prefetch") return null;
  const { model, startLayer, endLayer } = value;
  if (typeof model !== "string") {
    throw new TypeError(
      `Cannot parse a prefetch request: model must be a string, got ${kind(model)}`,
    );
  }
  if (model.trim() === "") {
    throw new RangeError("Cannot parse a prefetch request: model is blank");
  }
  if (model.length > MAX_PREFETCH_MODEL_LENGTH) {
    throw new RangeError(
      `Cannot parse a prefetch request: model has ${model.length} characters, above ${MAX_PREFETCH_MODEL_LENGTH}`,
    );
  }
  const start = layer(startLayer, "startLayer");
  const end = layer(endLayer, "endLayer");
  if (end < start) {
    throw new RangeError(
      `Cannot parse a prefetch request: endLayer ${end} is before startLayer ${start}`,
    );
  }
  return { event: "prefetch", model, startLayer: start, endLayer: end };
}

function layer(value: unknown, field: string): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot parse a prefetch request: ${field} must be a number, got ${kind(value)}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_PREFETCH_LAYER) {
    throw new RangeError(
      `Cannot parse a prefetch request: ${field} must be an integer from 0 to ${MAX_PREFETCH_LAYER}, got ${value}`,
    );
  }
  return value;
}

function kind(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
