import type { Message } from "../../lib/protocol/mod.ts";
import { tensorFromTypedArray } from "../../lib/protocol/mod.ts";

const capabilities = {
  model: "MacBook Pro",
  chip: "Apple M2 Max",
  memory: 65536,
  flops: { fp32: 13.49, fp16: 26.98, int8: 53.96 },
};

/** One message of every type, with non-trivial field values. */
export function sampleMessages(): Message[] {
  return [
    {
      type: "hello",
      version: 1,
      nodeId: "mac1",
      capabilities,
      nonce: Uint8Array.from({ length: 32 }, (_, i) => i * 7),
    },
    { type: "auth", proof: Uint8Array.from({ length: 32 }, (_, i) => 255 - i) },
    { type: "refuse", reason: "Protocol version 2 is not supported" },
    { type: "ping", id: 42, sentAt: 1_700_000_000_123.5 },
    { type: "pong", id: 0xffff_ffff, sentAt: -0 },
    { type: "topology_request", id: 7 },
    {
      type: "topology_reply",
      id: 7,
      nodes: [
        { nodeId: "mac1", capabilities, hops: 0 },
        {
          nodeId: "linux-é",
          capabilities: { model: "", chip: "", memory: 0, flops: { fp32: 0, fp16: 0, int8: 0 } },
          hops: 2,
        },
      ],
      edges: [{ from: "mac1", to: "linux-é" }],
    },
    {
      type: "prompt",
      requestId: "chatcmpl-1",
      meta: JSON.stringify({ model: "llama-3.2-1b", temperature: 0.7 }),
      tokens: [128000, 9906, -1, 0, 2147483647, -2147483648],
    },
    {
      type: "tensor",
      requestId: "chatcmpl-1",
      step: 3,
      shardIndex: 1,
      meta: "",
      tensor: tensorFromTypedArray("float32", [1, 2, 3], Float32Array.of(1, 2, 3, 4, 5, 6.5)),
    },
    {
      type: "token",
      requestId: "chatcmpl-1",
      step: 4,
      tokens: [128009],
      finishReason: "stop",
    },
    { type: "status", json: '{"type":"download","progress":0.5,"emoji":"🦙"}' },
    { type: "error", requestId: "chatcmpl-1", message: "Shard 1 failed: out of memory" },
    { type: "cancel", requestId: "chatcmpl-1", reason: "client disconnected" },
    { type: "quiet", quietMs: 600_000, reason: "loading layers 0..15" },
    { type: "quiet", quietMs: 0, reason: "" },
  ];
}

/** Prefixes `body` with its u32 little-endian length. */
export function frameOf(body: ArrayLike<number>): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, 4);
  return frame;
}

/** A small seeded PRNG (mulberry32) so random tests replay exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
