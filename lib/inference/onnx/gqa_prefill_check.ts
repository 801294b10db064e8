/**
 * Checks, on the GPU at hand, how many new tokens one GroupQueryAttention run computes
 * right, against the CPU provider on the same numbers.
 *
 * Why: on Mesa's lavapipe (Vulkan on the CPU, subgroups of 8 lanes) onnxruntime-node 1.30
 * and 1.31.1 both return wrong attention rows, from the 9th on, whenever one run brings 32
 * or more new tokens (relative error ~3e-2, every prompt of 32+ tokens); 31 new tokens, with
 * or without a past, and every decode step agree with the CPU to 1e-7. The fault sits in the
 * WebGPU kernel's prefill path (onnxruntime picks flash attention where the adapter has
 * subgroups), so other adapters may be fine: this check keeps full prefill slices where
 * the GPU gets them right and falls back to slices of 31 tokens where it does not.
 * @module
 */
import type { ModelConfig } from "../../model/model_config.ts";
import { encodeModel, type OnnxDataType, type OnnxModel } from "./onnx_model.ts";
import { MS_DOMAIN, MS_OPSET, ONNX_OPSET } from "./graph_builder.ts";
import { ort } from "./ort_runtime.ts";
import { fromFloat16Bits, toFloat16Bits } from "./float16.ts";
import { attentionScale } from "./attention_emitter.ts";

/** New tokens per run that the faulty prefill path never sees. */
export const SHORT_PREFILL = 31;
/** New tokens of the first check: past the fault's start, and quick on any adapter. */
const PROBE = 64;

/** What the check found. */
export interface PrefillCheck {
  /** The longest prompt slice to run at once. */
  chunk: number;
  /** Why the wanted slice was cut, or null. */
  reason: string | null;
}

/** Largest |gpu - cpu| over largest |cpu| that still counts as agreeing, by type. */
const TOLERANCE: Record<"float32" | "float16", number> = { float32: 1e-4, float16: 5e-3 };

type Shape = Pick<ModelConfig, "numHeads" | "numKvHeads" | "headDim">;

/**
 * Runs one GroupQueryAttention of the model's head shape on WebGPU and on the CPU, first over
 * 64 new tokens (past the 32 where the fault starts; cheap even on lavapipe, whose float16
 * attention over 512 tokens takes over a minute), then, when that agrees, over `wanted`.
 * Returns the longest slice that agrees: `wanted`, 64, or {@linkcode SHORT_PREFILL}.
 * @throws {Error} when even short slices disagree: the GPU cannot run this attention.
 */
export async function checkGqaPrefill(
  shape: Shape,
  type: "float32" | "float16",
  wanted: number,
): Promise<PrefillCheck> {
  const positions = Math.max(wanted, PROBE);
  const gpu = await ort.InferenceSession.create(encodeModel(probeModel(shape, type, positions)), {
    executionProviders: ["webgpu"],
  });
  const cpu = await ort.InferenceSession.create(
    encodeModel(probeModel(shape, "float32", positions)),
    { executionProviders: ["cpu"] },
  );
  try {
    const agrees = async (seq: number) => {
      const error = await relativeError(gpu, cpu, shape, type, seq);
      return { seq, error, ok: error <= TOLERANCE[type] };
    };
    const cut = (bad: { seq: number; error: number }, chunk: number) => ({
      chunk,
      reason: `this GPU's GroupQueryAttention over ${bad.seq} new tokens differs from the CPU by ${
        bad.error.toExponential(1)
      }, so prompts run ${chunk} tokens at a time`,
    });
    if (wanted <= SHORT_PREFILL) {
      const only = await agrees(wanted);
      if (!only.ok) throw faulty(only);
      return { chunk: wanted, reason: null };
    }
    const probe = await agrees(Math.min(PROBE, wanted));
    if (!probe.ok) {
      const short = await agrees(SHORT_PREFILL);
      if (!short.ok) throw faulty(short);
      return cut(probe, SHORT_PREFILL);
    }
    if (wanted <= PROBE) return { chunk: wanted, reason: null };
    const full = await agrees(wanted);
    return full.ok ? { chunk: wanted, reason: null } : cut(full, PROBE);
  } finally {
    await Promise.all([gpu.release(), cpu.release()]);
  }
}

function faulty(bad: { seq: number; error: number }): Error {
  return new Error(
    `Cannot run attention on this GPU: GroupQueryAttention over ${bad.seq} new tokens differs from the CPU by ${
      bad.error.toExponential(1)
    } (use --execution-provider cpu)`,
  );
}

/** Max |gpu - cpu| over max |cpu| of the attention output for `seq` new tokens. */
async function relativeError(
  gpu: ort.InferenceSession,
  cpu: ort.InferenceSession,
  shape: Shape,
  type: "float32" | "float16",
  seq: number,
): Promise<number> {
  const width = (shape.numHeads + 2 * shape.numKvHeads) * shape.headDim;
  // [1, seq, (heads + 2 kvHeads) × headDim], rounded to the GPU's type so both see the same.
  let qkv = seededValues(seq * width, seq);
  if (type === "float16") qkv = fromFloat16Bits(toFloat16Bits(qkv));
  const past = [1, shape.numKvHeads, 0, shape.headDim];
  const feeds = (t: "float32" | "float16") => ({
    qkv: t === "float16"
      ? new ort.Tensor("float16", toFloat16Bits(qkv), [1, seq, width])
      : new ort.Tensor("float32", qkv, [1, seq, width]),
    past_key: emptyTensor(t, past),
    past_value: emptyTensor(t, past),
    seqlens_k: new ort.Tensor("int32", Int32Array.of(seq - 1), [1]),
    total_sequence_length: new ort.Tensor("int32", Int32Array.of(seq), [1]),
  });
  const got = (await gpu.run(feeds(type))).output;
  const want = (await cpu.run(feeds("float32"))).output.data as Float32Array;
  const values = type === "float16"
    ? fromFloat16Bits(got.data as Uint16Array)
    : got.data as Float32Array;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(values[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

function emptyTensor(type: "float32" | "float16", dims: number[]): ort.Tensor {
  return type === "float16"
    ? new ort.Tensor("float16", new Uint16Array(0), dims)
    : new ort.Tensor("float32", new Float32Array(0), dims);
}

/** Values in [-1, 1) from a small linear congruential generator: the same on every run. */
export function seededValues(length: number, seed: number): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

/** One GroupQueryAttention over packed q|k|v with rotary inside, as the shard graphs have it. */
function probeModel(shape: Shape, type: OnnxDataType, positions: number): OnnxModel {
  const { numHeads, numKvHeads, headDim } = shape;
  const half = headDim / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / 10000 ** (i / half);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  const bytes = (values: Float32Array) =>
    type === "float16"
      ? new Uint8Array(toFloat16Bits(values).buffer)
      : new Uint8Array(values.buffer);
  const kv = ["batch", numKvHeads, "past", headDim];
  return {
    irVersion: 10,
    opsets: [{ domain: "", version: ONNX_OPSET }, { domain: MS_DOMAIN, version: MS_OPSET }],
    producerName: "exo-node gqa prefill check",
    graphName: "gqa_prefill_check",
    inputs: [
      { name: "qkv", type, shape: ["batch", "seq", (numHeads + 2 * numKvHeads) * headDim] },
      { name: "past_key", type, shape: kv },
      { name: "past_value", type, shape: kv },
      { name: "seqlens_k", type: "int32", shape: ["batch"] },
      { name: "total_sequence_length", type: "int32", shape: [1] },
    ],
    outputs: [{ name: "output", type, shape: ["batch", "seq", numHeads * headDim] }],
    nodes: [{
      opType: "GroupQueryAttention",
      domain: MS_DOMAIN,
      name: "attention",
      inputs: [
        "qkv",
        "",
        "",
        "past_key",
        "past_value",
        "seqlens_k",
        "total_sequence_length",
        "cos",
        "sin",
      ],
      outputs: ["output", "present_key", "present_value"],
      attributes: {
        num_heads: { kind: "int", value: numHeads },
        kv_num_heads: { kind: "int", value: numKvHeads },
        do_rotary: { kind: "int", value: 1 },
        rotary_interleaved: { kind: "int", value: 0 },
        scale: { kind: "float", value: attentionScale(shape) },
      },
    }],
    initializers: [
      { name: "cos", type, dims: [positions, half], data: { kind: "raw", bytes: bytes(cos) } },
      { name: "sin", type, dims: [positions, half], data: { kind: "raw", bytes: bytes(sin) } },
    ],
  };
}
