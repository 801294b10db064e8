import type { SamplingParams } from "../inference/sampler/sampling_params.ts";
import type { ShardRange } from "../topology/partition.ts";

/**
 * What every node of a request's plan needs to know about it. Fixed by the origin (the
 * node that received the HTTP request) and sent with the prompt, so every node agrees on
 * the plan even while the topology changes.
 */
export interface RequestMeta {
  /** The model as every node resolves it: a registry id, a hub repo id or a local directory. */
  model: string;
  /** The node streaming the completion to the client; tokens go there. */
  origin: string;
  /** The pipeline, in order: node and inclusive layer range of each shard. */
  shards: ShardRange[];
  sampling: SamplingParams;
  /** Seeds the last shard's sampler. */
  seed: number;
  /** Most tokens to generate. */
  maxTokens: number;
  /** Token ids that end generation. */
  eosTokenIds: number[];
}

/** Renders the meta for the wire (JSON). */
export function encodeRequestMeta(meta: RequestMeta): string {
  return JSON.stringify(meta);
}

/**
 * Parses and checks a request meta that arrived from a peer: every field present with the
 * right type, shards contiguous from layer 0.
 * @throws {TypeError} naming the first field at fault.
 */
export function parseRequestMeta(json: string): RequestMeta {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new TypeError(`Cannot parse request meta: ${(error as Error).message}`);
  }
  const meta = record(value, "meta");
  const shardsValue = meta.shards;
  if (!Array.isArray(shardsValue) || shardsValue.length === 0) {
    throw new TypeError("Cannot parse request meta: shards must be a non-empty array");
  }
  const shards = shardsValue.map((item, i): ShardRange => {
    const shard = record(item, `shards[${i}]`);
    return {
      nodeId: text(shard.nodeId, `shards[${i}].nodeId`),
      startLayer: count(shard.startLayer, `shards[${i}].startLayer`),
      endLayer: count(shard.endLayer, `shards[${i}].endLayer`),
    };
  });
  shards.forEach((shard, i) => {
    const expectedStart = i === 0 ? 0 : shards[i - 1].endLayer + 1;
    if (shard.startLayer !== expectedStart || shard.endLayer < shard.startLayer) {
      throw new TypeError(
        `Cannot parse request meta: shards[${i}] covers ${shard.startLayer}..${shard.endLayer}, expected to start at ${expectedStart}`,
      );
    }
  });
  const sampling = record(meta.sampling, "sampling");
  const eos = meta.eosTokenIds;
  if (!Array.isArray(eos)) {
    throw new TypeError("Cannot parse request meta: eosTokenIds must be an array");
  }
  return {
    model: text(meta.model, "model"),
    origin: text(meta.origin, "origin"),
    shards,
    sampling: {
      temperature: finite(sampling.temperature, "sampling.temperature"),
      topP: finite(sampling.topP, "sampling.topP"),
      topK: count(sampling.topK, "sampling.topK"),
    },
    seed: safeInteger(meta.seed, "seed"),
    maxTokens: count(meta.maxTokens, "maxTokens"),
    eosTokenIds: eos.map((id, i) => count(id, `eosTokenIds[${i}]`)),
  };
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot parse request meta: ${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`Cannot parse request meta: ${field} must be a non-empty string`);
  }
  return value;
}

function count(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new TypeError(`Cannot parse request meta: ${field} must be an integer >= 0`);
  }
  return value as number;
}

function safeInteger(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new TypeError(`Cannot parse request meta: ${field} must be a safe integer`);
  }
  return value as number;
}

function finite(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Cannot parse request meta: ${field} must be a finite number`);
  }
  return value;
}
