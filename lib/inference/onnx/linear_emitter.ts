import { type GraphBuilder, MS_DOMAIN } from "./graph_builder.ts";
import { quantizeQ4 } from "./quantize_q4.ts";
import type { ShardDType } from "./shard_signature.ts";
import { bytesOf, transpose } from "./weight_layout.ts";
import { toFloat16Bits } from "./float16.ts";

/** Options of one emitted projection. */
export interface LinearOptions {
  /** Name of the output value (a fresh name when absent). */
  outName?: string;
}

/**
 * Emits `x @ W^T` for PyTorch Linear weights W [out, in] in the shard's precision, so the
 * graph code reads the same whatever the dtype.
 */
export class LinearEmitter {
  #b: GraphBuilder;
  #dtype: ShardDType;
  #activations: "float32" | "float16";

  /**
   * Creates an emitter writing into `builder` at precision `dtype`, for inputs of element
   * type `activations` (q4 scales take the activations' type, as MatMulNBits requires).
   */
  constructor(
    builder: GraphBuilder,
    dtype: ShardDType,
    activations: "float32" | "float16" = dtype === "float16" ? "float16" : "float32",
  ) {
    if (dtype === "float32" && activations === "float16") {
      throw new RangeError("Cannot build shard graph: float32 weights need float32 activations");
    }
    this.#b = builder;
    this.#dtype = dtype;
    this.#activations = activations;
  }

  /** Emits a projection of `x` [..., inDim] to [..., outDim] and returns its output name. */
  emit(
    x: string,
    name: string,
    weight: Float32Array, // [outDim, inDim]
    outDim: number,
    inDim: number,
    options: LinearOptions = {},
  ): string {
    checkShape(name, weight, outDim, inDim);
    const outputs = options.outName === undefined ? 1 : [options.outName];
    switch (this.#dtype) {
      case "float32": {
        const w = this.#b.initializer(
          `${name}.weight_t`,
          "float32",
          [inDim, outDim],
          bytesOf(transpose(weight, outDim, inDim)),
        );
        return this.#b.node("MatMul", [x, w], { outputs })[0];
      }
      case "q4": {
        // MatMulNBits reads B in PyTorch's [out, in] layout: no transpose.
        const q = quantizeQ4(weight, outDim, inDim);
        const b = this.#b;
        const packed = b.initializer(`${name}.weight_q4`, "uint8", [
          outDim,
          q.blocksPerRow,
          q.blockSize / 2,
        ], q.packed);
        const scales = b.initializer(
          `${name}.scales`,
          this.#activations,
          [q.scales.length],
          bytesOf(this.#activations === "float16" ? toFloat16Bits(q.scales) : q.scales),
        );
        const zeroPoints = b.initializer(
          `${name}.zero_points`,
          "uint8",
          [q.zeroPoints.length],
          q.zeroPoints,
        );
        return b.node("MatMulNBits", [x, packed, scales, zeroPoints], {
          outputs,
          domain: MS_DOMAIN,
          attributes: {
            K: int(inDim),
            N: int(outDim),
            bits: int(4),
            block_size: int(q.blockSize),
            // int8 compute: the fastest level measured on CPU.
            accuracy_level: int(4),
          },
        })[0];
      }
      case "float16": {
        const w = this.#b.initializer(
          `${name}.weight_t`,
          "float16",
          [inDim, outDim],
          bytesOf(toFloat16Bits(transpose(weight, outDim, inDim))),
        );
        return this.#b.node("MatMul", [x, w], { outputs })[0];
      }
    }
  }
}

function int(value: number) {
  return { kind: "int", value } as const;
}

function checkShape(name: string, weight: Float32Array, outDim: number, inDim: number): void {
  if (weight.length !== outDim * inDim) {
    throw new RangeError(
      `Cannot build shard graph: ${name} has ${weight.length} values, expected ${outDim}x${inDim}`,
    );
  }
}
