import type { GraphBuilder } from "./graph_builder.ts";
import type { ShardDType } from "./shard_signature.ts";
import { bytesOf, transpose } from "./weight_layout.ts";

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

  /** Creates an emitter writing into `builder` at precision `dtype`. */
  constructor(builder: GraphBuilder, dtype: ShardDType) {
    this.#b = builder;
    this.#dtype = dtype;
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
      case "float16":
      case "q4":
        throw new TypeError(`Cannot build shard graph: dtype ${this.#dtype} is not supported yet`);
    }
  }

  /**
   * Emits the lm_head on `x` [batch, hidden] into `outName` [batch, vocab]. A tied head
   * passes `weight` null and reuses the embedding initializer `embedName`, stored once.
   */
  emitLmHead(
    x: string,
    name: string,
    weight: Float32Array | null, // [vocab, hidden]
    embedName: string | null,
    vocab: number,
    hidden: number,
    outName: string,
  ): void {
    let w: string;
    if (weight === null) {
      if (embedName === null || this.#dtype !== "float32") {
        throw new TypeError("Cannot build shard graph: a tied lm_head needs the embedding weights");
      }
      w = embedName;
    } else {
      checkShape(name, weight, vocab, hidden);
      if (this.#dtype !== "float32") {
        return void this.emit(x, name, weight, vocab, hidden, { outName });
      }
      w = this.#b.initializer(`${name}.weight`, "float32", [vocab, hidden], bytesOf(weight));
    }
    // Gemm with transB reads the [vocab, hidden] embedding layout as is, so a tied head
    // shares the embedding's bytes instead of storing a transposed copy.
    this.#b.node("Gemm", [x, w], {
      outputs: [outName],
      attributes: { transB: { kind: "int", value: 1 } },
    });
  }
}

function checkShape(name: string, weight: Float32Array, outDim: number, inDim: number): void {
  if (weight.length !== outDim * inDim) {
    throw new RangeError(
      `Cannot build shard graph: ${name} has ${weight.length} values, expected ${outDim}x${inDim}`,
    );
  }
}
