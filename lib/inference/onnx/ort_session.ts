import type { Logger } from "../../log/logger.ts";
import { listSupportedBackends } from "onnxruntime-node";
import { ort } from "./ort_runtime.ts";

/** Execution providers a shard can ask for. */
export type ExecutionProvider = "cpu" | "coreml" | "webgpu";

/** ORT's own name of each provider, as its profile and placement log spell it. */
export const ORT_PROVIDER_NAMES: Record<ExecutionProvider, string> = {
  cpu: "CPUExecutionProvider",
  coreml: "CoreMLExecutionProvider",
  webgpu: "WebGpuExecutionProvider",
};

/** How to open a session. */
export interface SessionRequest {
  modelPath: string;
  executionProvider: ExecutionProvider;
  /** Intra-op threads (default 2). */
  threads?: number;
  /**
   * Whether ORT repacks constant MatMul weights into its kernels' layouts at load (default
   * true). Q4 graphs need it; float32 graphs serve as fast and far smaller without it.
   */
  prepackWeights?: boolean;
  /** Outputs a GPU session leaves on the device (its KV cache), fed back as inputs. */
  deviceOutputs?: string[];
  /**
   * Profile into this file prefix until the caller ends profiling: the profile of the
   * first run tells where each node ran (see placement.ts).
   */
  profilePrefix?: string;
}

/** An open session and the provider it actually runs on. */
export interface OpenedSession {
  session: ort.InferenceSession;
  executionProvider: ExecutionProvider;
  /** Why the requested provider was not used, or null when it was. */
  fallbackReason: string | null;
}

/** The execution providers this onnxruntime-node build carries, by our names. */
export function availableProviders(
  backends: readonly string[] = listSupportedBackends().map((b) => b.name),
): ExecutionProvider[] {
  return (["cpu", "coreml", "webgpu"] as const).filter((p) => p === "cpu" || backends.includes(p));
}

/**
 * Why `provider` cannot be asked for on this build, or null when it can. CoreML falls back
 * to CPU where the build lacks it, so only an explicit WebGPU is refused.
 */
export function missingProvider(
  provider: ExecutionProvider,
  backends: readonly string[] = listSupportedBackends().map((b) => b.name),
  platform = `${Deno.build.os}/${Deno.build.arch}`,
): string | null {
  if (provider !== "webgpu" || availableProviders(backends).includes("webgpu")) return null;
  return `webgpu is not in this onnxruntime-node build for ${platform} (it has ${
    backends.join(", ")
  })`;
}

/**
 * Opens an ORT session from a model file path (external data resolves beside it). Intra-op
 * threads spin while a run lasts (turning spinning off cost ~20% per token here) and stop
 * the moment it returns ("session.force_spinning_stop"): a node idle between the steps of a
 * request must leave the cores to the node computing. Spinning on between runs halved a
 * 2-node cluster's decode on one 2-core machine (bench:cluster, smollm2-135m-like q4: 44 vs
 * 97 tokens/s on 1 node; with the stop, 80 vs 104).
 * A CoreML or WebGPU session that this build lacks or that fails to open falls back to CPU,
 * with the reason returned and logged. Nodes a provider cannot run go to the CPU provider
 * within the session; the placement from the profile shows them.
 */
export async function openSession(request: SessionRequest, logger: Logger): Promise<OpenedSession> {
  const threads = request.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Cannot open session: threads must be a positive integer, got ${threads}`);
  }
  const options = (providers: string[]) => sessionOptions(providers, threads, request);
  const provider = request.executionProvider;
  const onCpu = async (reason: string | null): Promise<OpenedSession> => {
    const session = await ort.InferenceSession.create(request.modelPath, options(["cpu"]));
    return { session, executionProvider: "cpu", fallbackReason: reason };
  };
  if (provider === "cpu") return onCpu(null);
  const label = provider === "coreml" ? "CoreML" : "WebGPU";
  // onnxruntime-common silently drops a provider the binding lacks, so ask first.
  const backends = listSupportedBackends().map((b) => b.name);
  if (!backends.includes(provider)) {
    const reason =
      `${label} is not in this onnxruntime-node build for ${Deno.build.os}/${Deno.build.arch} (has ${
        backends.join(", ")
      })`;
    logger.warn(`${reason}; using CPU`);
    return onCpu(reason);
  }
  try {
    const session = await ort.InferenceSession.create(
      request.modelPath,
      options([provider, "cpu"]),
    );
    return { session, executionProvider: provider, fallbackReason: null };
  } catch (error) {
    const reason = `${label} session failed: ${ortErrorReason(error)}`;
    logger.warn(`${reason}; falling back to CPU`);
    return onCpu(reason);
  }
}

/**
 * The ORT options for one session on `providers`, in order of preference.
 *
 * Prepacking (on unless "session.disable_prepacking" is "1") copies each constant MatMul
 * weight into its kernel's layout in anonymous memory at load. Without it, float32 MatMuls
 * read the memory-mapped external data in place: smollm2-135m's serving peak RSS fell from
 * 1190 to 890 MB with decode speed unchanged (bench:engine), and logits moved by at most
 * 2e-5 (another GEMM path, not another precision). MatMulNBits (q4) has no fast unpacked
 * path: without prepacking its decode fell from ~90 to ~1 token/s.
 *
 * ORT's CPU memory arena is off: it keeps the largest activations a prompt slice ever
 * needed, and grows in doubling steps. Without it, llama-3.2-1b q4 (794 MB of weights)
 * served a 512-token prompt and 1,000 tokens at 1206 MB peak RSS instead of 1344 (the
 * target is 1253), at the same speed within noise (A/B, 2 alternating rounds: decode from
 * empty 38.7-39.6 vs 39.5-39.6 ms, prefill 149-150 vs 151-154 tok/s; smollm2-135m-like
 * q4 likewise).
 */
export function sessionOptions(
  providers: string[],
  threads: number,
  request: Pick<SessionRequest, "prepackWeights" | "deviceOutputs" | "profilePrefix">,
): ort.InferenceSession.SessionOptions {
  const prepack = request.prepackWeights ?? true;
  // Only a GPU provider has a device to keep outputs on; on CPU they are CPU tensors anyway.
  const onDevice = providers[0] === "webgpu" ? request.deviceOutputs ?? [] : [];
  return {
    executionProviders: providers,
    ...(onDevice.length === 0 ? {} : {
      preferredOutputLocation: Object.fromEntries(
        onDevice.map((name) => [name, "gpu-buffer" as const]),
      ),
    }),
    ...(request.profilePrefix === undefined
      ? {}
      : { enableProfiling: true, profileFilePrefix: request.profilePrefix }),
    enableCpuMemArena: false,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    extra: {
      session: {
        intra_op: { allow_spinning: "1" },
        force_spinning_stop: "1",
        disable_prepacking: prepack ? "0" : "1",
      },
    },
  };
}

/**
 * The part of an ONNX Runtime error worth a log line: its first line, without the source
 * location and failed check ORT puts before the sentence that says what went wrong
 * ("/onnxruntime_src/...cc:136 ... was false. Failed to get a WebGPU adapter: ...").
 */
export function ortErrorReason(error: unknown): string {
  const first = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return first.replace(/^.* was false\. /, "").trim();
}

/**
 * Keeps ONNX Runtime's own log to errors. Its native code writes warnings straight to
 * stderr, which would draw over the terminal view. Takes effect before the first session.
 */
export function quietOrtLog(): void {
  ort.env.logLevel = "error";
}
