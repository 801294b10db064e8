/**
 * llama.cpp's figures for the benchmark shapes, which bench:engine and bench:kernels print
 * beside their own: llama-bench pp512 / tg128 tokens/s, 2 threads, CPU, random weights in
 * the same shapes, measured on this machine kind (the engine issue's table). tg128 decodes
 * 128 tokens from an empty context.
 * @module
 */
import type { ShardDType } from "../lib/inference/onnx/shard_signature.ts";
import type { Shape } from "./_bench_util.ts";

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

/** The llama.cpp precision each of our dtypes is compared with. */
export const LLAMA_CPP_PRECISION: Record<ShardDType, string> = {
  float32: "F32",
  float16: "F16",
  q4: "Q4_0",
};

/** llama.cpp's figures for a shape at our dtype's precision, if it was measured. */
export function llamaCpp(shape: Shape, dtype: ShardDType): LlamaCppFigures | undefined {
  return LLAMA_CPP[shape][LLAMA_CPP_PRECISION[dtype]];
}
