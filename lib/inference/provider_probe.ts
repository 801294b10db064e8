/**
 * The measurement behind `--execution-provider auto`: every provider this build and
 * machine have runs slices of the shard (probe_slice.ts says which and why they stand for
 * the shard), its outputs are checked against the CPU's, and the fastest correct one wins.
 * @module
 */
import { listSupportedBackends } from "onnxruntime-node";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { relativeDifference, TOLERANCE } from "./agreement.ts";
import { GqaShardRunner } from "./gqa_shard_runner.ts";
import {
  availableProviders,
  type ExecutionProvider,
  ORT_PROVIDER_NAMES,
  ortErrorReason,
} from "./onnx/ort_session.ts";
import type { Placement } from "./onnx/placement.ts";
import { adoptShardGraphs } from "./onnx/shard_cache.ts";
import type { ShardDType } from "./onnx/shard_signature.ts";
import { webgpuUnavailable } from "./onnx/webgpu_adapter.ts";
import { measureSlice, type ProbePlan, probePlan, type SliceMeasurement } from "./probe_measure.ts";
import { type LayerRange, probeSlices, projectMs } from "./probe_slice.ts";
import { layerParameters, type ShardRunnerOptions } from "./shard_load.ts";
import { type LoadedRunner, ShardRunner } from "./shard_runner.ts";

/** One provider the probe tried: its figures over the whole shard, or why it is out. */
export interface CandidateResult {
  provider: ExecutionProvider;
  dtype: ShardDType;
  /** Decode tokens/s over the shard's layers (projected when a slice was timed); null when out. */
  decodeTokensPerSecond: number | null;
  /** Prompt tokens/s over the shard's layers; null when out. */
  prefillTokensPerSecond: number | null;
  /** Why the candidate is out (a wrong answer, no GPU, most nodes on the CPU); null when in. */
  out: string | null;
}

/** What the probe measured and chose. */
export interface ProbeResult {
  /** The winner: the correct candidate that answers a typical turn soonest. */
  provider: ExecutionProvider;
  dtype: ShardDType;
  /** Every candidate, in the order tried (the CPU first). */
  candidates: CandidateResult[];
  /** The layers checked and timed. */
  probeLayers: LayerRange;
  /** Whether the figures are projected from slices rather than timed on the whole shard. */
  projected: boolean;
}

/** Probe settings that only tests change. */
export interface ProbeSettings {
  /** Most of the shard's layers loaded at once (default PROBE_LAYERS). */
  maxLayers?: number;
  /** Multiplies every weight of one provider's probe graphs by `factor`: a wrong candidate. */
  perturbWeights?: { provider: ExecutionProvider; factor: number };
}

/** The shard to probe and how it will run. */
export interface ProbeRequest {
  modelDir: string;
  config: ModelConfig;
  /** First layer of the shard (inclusive). */
  startLayer: number;
  /** Last layer of the shard (inclusive). */
  endLayer: number;
  /** The precision asked for (see candidateDType). */
  dtype: ShardDType;
  /** The shard cache: probe graphs are built in a scratch directory inside it. */
  cacheDir: string;
  threads?: number;
  /** The context the shard will serve (its graphs are built for it). */
  maxContext: number;
  logger?: Logger;
  /** Providers to try, the CPU first (default: candidateProviders()). */
  providers?: ExecutionProvider[];
  settings?: ProbeSettings;
}

/**
 * What a typical turn is, to weigh prompt speed against decode speed: a 512-token prompt
 * and a 256-token reply.
 */
const TURN = { promptTokens: 512, replyTokens: 256 };
/** Longest reason kept for a candidate that is out (ORT's messages run to many lines). */
const MAX_REASON = 300;

/**
 * The providers worth trying, the CPU first as every other one's reference: WebGPU always
 * (out with the reason where the build lacks it) and CoreML where the build has it.
 */
export function candidateProviders(
  backends: readonly string[] = listSupportedBackends().map((b) => b.name),
): ExecutionProvider[] {
  const coreml = availableProviders(backends).includes("coreml");
  return coreml ? ["cpu", "webgpu", "coreml"] : ["cpu", "webgpu"];
}

/**
 * The precision a candidate runs when `dtype` is asked for: that one, except that CoreML,
 * which has no 4-bit kernel, runs float16 where q4 is asked.
 */
export function candidateDType(provider: ExecutionProvider, dtype: ShardDType): ShardDType {
  return provider === "coreml" && dtype === "q4" ? "float16" : dtype;
}

/** Seconds a candidate takes for a typical turn; Infinity when it is out. */
export function turnSeconds(candidate: CandidateResult): number {
  const { decodeTokensPerSecond: decode, prefillTokensPerSecond: prefill } = candidate;
  if (candidate.out !== null || !decode || !prefill) return Infinity;
  return TURN.promptTokens / prefill + TURN.replyTokens / decode;
}

/**
 * Checks and times every candidate on slices of the shard, one loaded at a time, and picks
 * the one with the shortest typical turn (the earlier tried on a tie). When the slice was
 * the whole shard, the winner's graph is moved into the shard cache for the load that
 * follows; every other probe graph is removed.
 * @throws {Error} when the CPU itself cannot run the slice.
 */
export async function probeProviders(request: ProbeRequest): Promise<ProbeResult> {
  const logger = request.logger ?? silentLogger;
  const slices = probeSlices(request.startLayer, request.endLayer, {
    numLayers: request.config.numLayers,
    layerParameters: layerParameters(request.config),
    tableParameters: request.config.vocabSize * request.config.hiddenSize,
  }, request.settings?.maxLayers);
  const plan = probePlan(request.maxContext);
  await Deno.mkdir(request.cacheDir, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: request.cacheDir, prefix: ".probe-" });
  try {
    const candidates: CandidateResult[] = [];
    let reference: { dtype: ShardDType; outputs: Float32Array[] } | null = null;
    for (const provider of request.providers ?? candidateProviders()) {
      const dtype = candidateDType(provider, request.dtype);
      const trial = new Trial(
        { ...request, logger: logger.child("probe") },
        plan,
        provider,
        dtype,
        `${scratch}/${provider}`,
      );
      const result = await trial.run(slices, reference);
      if (provider === "cpu") {
        if (result.out !== null) {
          throw new Error(`Cannot probe execution providers: the CPU failed: ${result.out}`);
        }
        reference = { dtype, outputs: trial.outputs };
      }
      logger.debug(`auto: ${describeCandidate(result)}`);
      candidates.push(result);
    }
    const winner = candidates.reduce((best, c) => turnSeconds(c) < turnSeconds(best) ? c : best);
    const perturbed = request.settings?.perturbWeights?.provider === winner.provider;
    if (slices.small === null && !perturbed) {
      await adoptShardGraphs(`${scratch}/${winner.provider}`, request.cacheDir).catch((error) =>
        logger.warn(`auto: cannot keep the probe's graph: ${(error as Error).message}`)
      );
    }
    return {
      provider: winner.provider,
      dtype: winner.dtype,
      candidates,
      probeLayers: slices.large,
      projected: slices.small !== null,
    };
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/** "webgpu q4 41.2 tok/s (prompt 310 tok/s)", or "coreml float16 out (why)". */
export function describeCandidate(candidate: CandidateResult): string {
  const head = `${candidate.provider} ${candidate.dtype}`;
  if (candidate.out !== null) return `${head} out (${candidate.out})`;
  return `${head} ${figure(candidate.decodeTokensPerSecond)} tok/s (prompt ${
    figure(candidate.prefillTokensPerSecond)
  } tok/s)`;
}

function figure(value: number | null): string {
  if (value === null) return "-";
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** One candidate's turn: load each slice, check it against the CPU, time it. */
class Trial {
  /** The large slice's check outputs, once measured. */
  outputs: Float32Array[] = [];
  #request: ProbeRequest;
  #plan: ProbePlan;
  #provider: ExecutionProvider;
  #dtype: ShardDType;
  #cacheDir: string;

  constructor(
    request: ProbeRequest,
    plan: ProbePlan,
    provider: ExecutionProvider,
    dtype: ShardDType,
    cacheDir: string,
  ) {
    this.#request = request;
    this.#plan = plan;
    this.#provider = provider;
    this.#dtype = dtype;
    this.#cacheDir = cacheDir;
  }

  async run(
    slices: ReturnType<typeof probeSlices>,
    reference: { dtype: ShardDType; outputs: Float32Array[] } | null,
  ): Promise<CandidateResult> {
    const out = (reason: string): CandidateResult => ({
      provider: this.#provider,
      dtype: this.#dtype,
      decodeTokensPerSecond: null,
      prefillTokensPerSecond: null,
      out: reason.slice(0, MAX_REASON),
    });
    try {
      if (this.#provider === "webgpu") {
        const missing = await webgpuUnavailable();
        if (missing !== null) return out(missing);
      }
      const large = await this.#measure(slices.large);
      if (typeof large === "string") return out(large);
      this.outputs = large.outputs;
      if (reference !== null) {
        const wrong = disagreement(large.outputs, this.#dtype, reference);
        if (wrong !== null) return out(wrong);
      }
      const small = slices.small === null ? null : await this.#measure(slices.small);
      if (typeof small === "string") return out(small);
      const layers = (range: LayerRange) => range.endLayer - range.startLayer + 1;
      const project = (pick: (m: SliceMeasurement) => number, shardLayers: number) =>
        projectMs(
          { layers: layers(slices.large), ms: pick(large) },
          small === null ? null : { layers: 1, ms: pick(small) },
          shardLayers,
        );
      // A head left out of the slices is decode work only (a prompt's runs on one position).
      const decodeMs = project((m) => m.decodeMs, slices.layers + slices.headLayers);
      const prefillMs = project((m) => m.prefillMs, slices.layers);
      return {
        provider: this.#provider,
        dtype: this.#dtype,
        decodeTokensPerSecond: 1000 / decodeMs,
        prefillTokensPerSecond: this.#plan.promptTokens * 1000 / prefillMs,
        out: null,
      };
    } catch (error) {
      return out(ortErrorReason(error));
    }
  }

  /** Loads one slice and measures it; a string says why the provider cannot run it. */
  async #measure(range: LayerRange): Promise<SliceMeasurement | string> {
    const runner = await this.#load(range);
    try {
      if (runner.executionProvider !== this.#provider) {
        return runner.fallbackReason ?? `${this.#provider} did not run the shard`;
      }
      if (this.#provider === "coreml") {
        const reason = coremlShortfall(runner.placement);
        if (reason !== null) return reason;
      }
      return await measureSlice(runner, this.#plan);
    } finally {
      await runner.dispose();
    }
  }

  #load(range: LayerRange): Promise<LoadedRunner> {
    const request = this.#request;
    const perturb = request.settings?.perturbWeights;
    const options: ShardRunnerOptions = {
      modelDir: request.modelDir,
      config: request.config,
      startLayer: range.startLayer,
      endLayer: range.endLayer,
      cacheDir: this.#cacheDir,
      dtype: this.#dtype,
      executionProvider: this.#provider,
      threads: request.threads,
      maxContext: request.maxContext,
      logger: request.logger,
      ...(perturb?.provider === this.#provider
        ? {
          transformWeights: (_: string, values: Float32Array) =>
            values.map((v) => v * perturb.factor),
        }
        : {}),
    };
    // The runner the provider serves with (see loadRunner), without loadRunner's fallback.
    return this.#provider === "webgpu" ? GqaShardRunner.load(options) : ShardRunner.load(options);
  }
}

/**
 * Why a candidate's check outputs are not the CPU's answer, or null when they agree within
 * the reference tests' tolerance: that of the dtype when both run the same one (they share
 * its rounding of the weights), else the sum of both (each may be that far from exact).
 */
function disagreement(
  outputs: Float32Array[],
  dtype: ShardDType,
  reference: { dtype: ShardDType; outputs: Float32Array[] },
): string | null {
  const tolerance = dtype === reference.dtype
    ? TOLERANCE[dtype]
    : TOLERANCE[dtype] + TOLERANCE[reference.dtype];
  const worst = Math.max(...outputs.map((o, i) => relativeDifference(o, reference.outputs[i])));
  if (worst <= tolerance) return null;
  const what = worst === Infinity ? "not finite or of another size" : worst.toPrecision(2);
  return `its outputs differ from the CPU's by ${what} (tolerance ${tolerance})`;
}

/**
 * Why CoreML would not run most of a graph placed as `placement` (a CoreML session's
 * profiled warm-up), or null when it runs more than half of the nodes.
 */
export function coremlShortfall(placement: Placement): string | null {
  const providers = placement.providers;
  const total = providers.reduce((sum, p) => sum + p.nodes, 0);
  if (total === 0) return "where CoreML runs the graph could not be read";
  const name = ORT_PROVIDER_NAMES.coreml;
  const own = providers.find((p) => p.provider === name)?.nodes ?? 0;
  if (own * 2 > total) return null;
  return `CoreML would run ${own} of ${total} nodes, the rest on the CPU`;
}
