/**
 * Micro-benchmark of the wire codec: encode + decode of tensor frames of the shapes a
 * Llama-3.2-1B pipeline sends (prefill [1, 512, 2048] and decode [1, 1, 2048] float32).
 *
 * Run: deno run scripts/bench_codec.ts
 *
 * @module
 */
import {
  encodeMessage,
  FrameDecoder,
  tensorFromTypedArray,
  type TensorMessage,
} from "../lib/protocol/mod.ts";

function tensorMessage(shape: number[]): TensorMessage {
  const elements = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: elements }, (_, i) => i % 97);
  return {
    type: "tensor",
    requestId: "chatcmpl-bench",
    step: 1,
    shardIndex: 1,
    meta: "",
    tensor: tensorFromTypedArray("float32", shape, values),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Times `run` in batches of `iterations`; returns the median ms per iteration. */
function time(iterations: number, run: () => void): number {
  const samples: number[] = [];
  for (let batch = 0; batch < 7; batch++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) run();
    samples.push((performance.now() - start) / iterations);
  }
  return median(samples);
}

function bench(label: string, shape: number[], iterations: number, chunkBytes: number): void {
  const message = tensorMessage(shape);
  const frame = encodeMessage(message);
  const decoder = new FrameDecoder();
  const decode = () => {
    for (let at = 0; at < frame.byteLength; at += chunkBytes) {
      decoder.push(frame.subarray(at, at + chunkBytes));
    }
  };
  // Warm-up: the first rounds pay for JIT compilation and the allocator growing its heap.
  time(iterations, () => encodeMessage(message));
  time(iterations, decode);
  const encodeMs = time(iterations, () => encodeMessage(message));
  const decodeMs = time(iterations, decode);
  const totalMs = encodeMs + decodeMs;
  const gbPerSecond = frame.byteLength / (totalMs / 1000) / 1e9;
  // deno-lint-ignore no-console
  console.log(
    `${label} (${frame.byteLength} B frame, ${chunkBytes} B chunks): ` +
      `encode ${(encodeMs * 1000).toFixed(1)} µs, decode ${(decodeMs * 1000).toFixed(1)} µs, ` +
      `encode+decode ${gbPerSecond.toFixed(2)} GB/s`,
  );
}

bench("prefill [1,512,2048] f32", [1, 512, 2048], 50, 256 * 1024);
bench("prefill [1,512,2048] f32", [1, 512, 2048], 50, 4 * 1024 * 1024 + 64);
bench("decode  [1,1,2048] f32", [1, 1, 2048], 5000, 256 * 1024);
