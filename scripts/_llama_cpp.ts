/**
 * llama.cpp's figures for the benchmark shapes from an earlier day: llama-bench pp512 /
 * tg128 tokens/s, 2 threads, CPU, random weights in the same shapes, measured once on this
 * machine kind (the engine issue's table); tg128 decodes 128 tokens from an empty context.
 * A ratio to fixed figures means little on a noisy machine: `bench:engine --vs-llama-cpp`
 * measures llama.cpp in the same run instead, and uses these only as a fallback when
 * llama.cpp cannot run, saying so ({@linkcode FIXED_LLAMA_CPP_LABEL}); bench:kernels prints
 * them with the same label.
 * @module
 */
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import type { GgmlType } from "../tests/fixtures/ggml_quants.ts";
import type { Shape } from "./_bench_util.ts";

/** How output names these figures wherever they are used. */
export const FIXED_LLAMA_CPP_LABEL =
  "fixed figures from an earlier day (scripts/_llama_cpp.ts), NOT measured in this run";

/** One llama-bench row: prompt processing of 512 tokens and decode of 128, tokens/s. */
export interface LlamaCppFigures {
  prefill512: number;
  decode128: number;
}

/** Keyed by shape, then llama.cpp precision. */
export const LLAMA_CPP: Record<Shape, Record<string, LlamaCppFigures>> = {
  "smollm2-135m-like": {
    F32: { prefill512: 762, decode128: 53.8 },
    F16: { prefill512: 882, decode128: 76.6 },
    Q8_0: { prefill512: 666, decode128: 93.8 },
    Q4_0: { prefill512: 982, decode128: 158 },
  },
  "llama-3.2-1b": {
    F16: { prefill512: 133, decode128: 10.7 },
    Q8_0: { prefill512: 108, decode128: 20.7 },
    Q4_0: { prefill512: 195, decode128: 42.6 },
  },
};

/** The llama.cpp precision each of our dtypes is compared with (and its GGUF is written in). */
export const LLAMA_CPP_PRECISION: Record<ShardDType, GgmlType> = {
  float32: "F32",
  float16: "F16",
  q4: "Q4_0",
};

/** llama.cpp's fixed figures for a shape at our dtype's precision, if it was measured. */
export function llamaCpp(shape: Shape, dtype: ShardDType): LlamaCppFigures | undefined {
  return LLAMA_CPP[shape][LLAMA_CPP_PRECISION[dtype]];
}
