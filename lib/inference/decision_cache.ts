/**
 * `auto`'s decisions, kept in the state directory so that the next start skips the probe:
 * one JSON file per model, shard, dtype, build and machine. Whatever changes the
 * measurement changes the key: the model's files (names, sizes, mtimes), the layer range,
 * the dtype asked for, the compute threads, onnxruntime's version, the shard graph's and
 * exo-node's, the probe's own, and the machine (chip, core count, OS, architecture).
 * @module
 */
import { VERSION } from "../cli/version.ts";
import type { Logger } from "../log/logger.ts";
import { ort } from "./onnx/ort_runtime.ts";
import type { ExecutionProvider } from "./onnx/ort_session.ts";
import { SHARD_GRAPH_VERSION } from "./onnx/shard_graph.ts";
import { modelFilesIdentity } from "./onnx/shard_cache.ts";
import type { ShardDType } from "./onnx/shard_signature.ts";
import type { CandidateResult, ProbeResult } from "./provider_probe.ts";

/** Bump whenever the probe would measure or rank differently. */
export const PROBE_VERSION = 1;

/** The machine a decision was measured on. */
export interface MachineIdentity {
  /** The chip or CPU name (e.g. "Apple M2 Pro"). */
  chip: string;
  /** Logical cores. */
  cores: number;
}

/** What a decision depends on; two equal keys would measure the same. */
export interface DecisionKey {
  model: { dir: string; files: [string, number, number][] };
  startLayer: number;
  endLayer: number;
  dtype: ShardDType;
  threads: number | null;
  build: { onnxruntime: string; shardGraph: number; exoNode: string; probe: number };
  machine: MachineIdentity & { os: string; arch: string };
}

/** A decision as kept: what the probe found and when. */
export interface KeptDecision extends ProbeResult {
  /** When it was measured, ms since the epoch. */
  measuredAt: number;
}

/** The decisions of one state directory. */
export interface DecisionCache {
  /** The decision kept for `key`, or null (none, another key's, or unreadable: logged). */
  read(key: DecisionKey): Promise<KeptDecision | null>;
  /** Keeps a decision for `key`, replacing any. */
  write(key: DecisionKey, decision: KeptDecision): Promise<void>;
  /** Removes the decision kept for `key`, if any. */
  forget(key: DecisionKey): Promise<void>;
}

/** The key of a shard's decision on `machine` with this build. */
export async function decisionKey(
  shard: {
    modelDir: string;
    startLayer: number;
    endLayer: number;
    dtype: ShardDType;
    threads?: number;
  },
  machine: MachineIdentity,
): Promise<DecisionKey> {
  return {
    model: { dir: shard.modelDir, files: await modelFilesIdentity(shard.modelDir) },
    startLayer: shard.startLayer,
    endLayer: shard.endLayer,
    dtype: shard.dtype,
    threads: shard.threads ?? null,
    build: {
      onnxruntime: ort.env.versions.node ?? "unknown",
      shardGraph: SHARD_GRAPH_VERSION,
      exoNode: VERSION,
      probe: PROBE_VERSION,
    },
    machine: { chip: machine.chip, cores: machine.cores, os: Deno.build.os, arch: Deno.build.arch },
  };
}

/** The decisions kept in `dir` (created on the first write). */
export function openDecisionCache(dir: string, logger: Logger): DecisionCache {
  const pathOf = async (key: DecisionKey) => `${dir}/${await digest(key)}.json`;
  return {
    async read(key) {
      const path = await pathOf(key);
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
      const decision = parseKept(text, key);
      if (decision === null) logger.warn(`auto: ignoring the unreadable decision in ${path}`);
      return decision;
    },
    async write(key, decision) {
      await Deno.mkdir(dir, { recursive: true });
      const path = await pathOf(key);
      const temporary = `${path}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(temporary, JSON.stringify({ key, decision }, null, 2) + "\n");
      await Deno.rename(temporary, path);
    },
    async forget(key) {
      await Deno.remove(await pathOf(key)).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}

async function digest(key: DecisionKey): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

const PROVIDERS: readonly string[] = ["cpu", "webgpu", "coreml"];
const DTYPES: readonly string[] = ["float32", "float16", "q4"];
const MAX_CANDIDATES = 8;

/** A kept decision from a file's text, or null when it is not one for `key`. */
function parseKept(text: string, key: DecisionKey): KeptDecision | null {
  let value: { key?: unknown; decision?: Record<string, unknown> };
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const d = value?.decision;
  if (JSON.stringify(value?.key) !== JSON.stringify(key) || typeof d !== "object" || d === null) {
    return null;
  }
  const layers = d.probeLayers as { startLayer?: unknown; endLayer?: unknown } | null;
  const candidates = d.candidates;
  if (
    !PROVIDERS.includes(d.provider as string) || !DTYPES.includes(d.dtype as string) ||
    typeof d.projected !== "boolean" || !Number.isFinite(d.measuredAt) ||
    typeof layers !== "object" || layers === null ||
    !Number.isSafeInteger(layers.startLayer) || !Number.isSafeInteger(layers.endLayer) ||
    !Array.isArray(candidates) || candidates.length > MAX_CANDIDATES ||
    !candidates.every(isCandidate) ||
    !candidates.some((c: CandidateResult) => c.provider === d.provider && c.out === null)
  ) {
    return null;
  }
  return {
    provider: d.provider as ExecutionProvider,
    dtype: d.dtype as ShardDType,
    candidates: candidates as CandidateResult[],
    probeLayers: { startLayer: layers.startLayer as number, endLayer: layers.endLayer as number },
    projected: d.projected,
    measuredAt: d.measuredAt as number,
  };
}

function isCandidate(value: unknown): boolean {
  const c = value as Record<string, unknown> | null;
  const rate = (v: unknown) => v === null || (typeof v === "number" && v > 0 && v < Infinity);
  return typeof c === "object" && c !== null && PROVIDERS.includes(c.provider as string) &&
    DTYPES.includes(c.dtype as string) && rate(c.decodeTokensPerSecond) &&
    rate(c.prefillTokensPerSecond) && (c.out === null || typeof c.out === "string");
}
