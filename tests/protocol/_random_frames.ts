import { type DType, DTYPE_CODES, dtypeItemSize, type Message } from "../../lib/protocol/mod.ts";

/** Random and damaged frames for fuzz tests of the decoder and of live nodes. */
const DTYPES = Object.keys(DTYPE_CODES) as DType[];
const PIECES = ["a", "Z", "0", " ", "é", "ß", "€", "🦙", "\u0000", "\uFEFF", '"', "\n"];

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** A uniform integer in [0, below). */
export function int(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function text(random: Random, maxPieces = 12): string {
  let out = "";
  for (let n = int(random, maxPieces + 1); n > 0; n--) out += PIECES[int(random, PIECES.length)];
  return out;
}

function bytes(random: Random, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => int(random, 256));
}

function tokens(random: Random): number[] {
  return Array.from({ length: int(random, 6) }, () => int(random, 2 ** 32) - 2 ** 31);
}

function capabilities(random: Random) {
  const float = () => (random() < 0.2 ? 0 : random() * 10 ** int(random, 6));
  return {
    model: text(random),
    chip: text(random),
    memory: float(),
    flops: { fp32: float(), fp16: float(), int8: float() },
  };
}

/** A random valid message of any type. */
export function randomMessage(random: Random): Message {
  const u32 = () => int(random, 2 ** 32);
  switch (int(random, 14)) {
    case 0:
      return {
        type: "hello",
        version: int(random, 3),
        nodeId: text(random),
        capabilities: capabilities(random),
        nonce: bytes(random, 32),
      };
    case 1:
      return { type: "auth", proof: bytes(random, int(random, 2) * 32) };
    case 2:
      return { type: "refuse", reason: text(random) };
    case 3:
      return { type: "ping", id: u32(), sentAt: random() * 2e12 - 1e12 };
    case 4:
      return { type: "pong", id: u32(), sentAt: random() < 0.1 ? -0 : random() * 2e12 };
    case 5:
      return { type: "topology_request", id: u32() };
    case 6:
      return {
        type: "topology_reply",
        id: u32(),
        nodes: Array.from(
          { length: int(random, 3) },
          () => ({
            nodeId: text(random),
            capabilities: capabilities(random),
            hops: int(random, 4),
          }),
        ),
        edges: Array.from(
          { length: int(random, 3) },
          () => ({ from: text(random), to: text(random) }),
        ),
      };
    case 7:
      return {
        type: "prompt",
        requestId: text(random),
        meta: text(random, 40),
        tokens: tokens(random),
      };
    case 8: {
      const dtype = DTYPES[int(random, DTYPES.length)];
      const shape = Array.from({ length: int(random, 4) }, () => int(random, 5));
      const size = shape.reduce((a, b) => a * b, 1) * dtypeItemSize(dtype);
      return {
        type: "tensor",
        requestId: text(random),
        step: u32(),
        shardIndex: int(random, 65536),
        meta: text(random),
        tensor: { dtype, shape, data: bytes(random, size) },
      };
    }
    case 9:
      return {
        type: "token",
        requestId: text(random),
        step: u32(),
        tokens: tokens(random),
        finishReason: text(random, 2),
      };
    case 10:
      return { type: "status", json: text(random, 40) };
    case 11:
      return { type: "error", requestId: text(random), message: text(random) };
    case 12:
      return { type: "quiet", quietMs: u32(), reason: text(random) };
    default:
      return { type: "cancel", requestId: text(random), reason: text(random) };
  }
}

/** Damages `frame` in one of several ways; returns a label and the damaged bytes. */
export function mutate(random: Random, frame: Uint8Array): [string, Uint8Array] {
  const out = frame.slice();
  const view = new DataView(out.buffer);
  switch (int(random, 7)) {
    case 0:
      return ["intact", out];
    case 1:
      for (let n = 1 + int(random, 4); n > 0; n--) {
        out[int(random, out.length)] ^= 1 << int(random, 8);
      }
      return ["bit flips", out];
    case 2:
      return ["truncated", out.subarray(0, int(random, out.length))];
    case 3:
      view.setUint32(0, random() < 0.5 ? int(random, 2 ** 32) : int(random, out.length + 8), true);
      return ["random length", out];
    case 4: {
      // Shortened body with a consistent prefix, so field checks (not framing) must catch it.
      const cut = out.slice(0, 4 + int(random, out.length - 4));
      new DataView(cut.buffer).setUint32(0, cut.length - 4, true);
      return ["short body", cut];
    }
    case 5: {
      // A forged u32 where a length, count or dimension may sit.
      view.setUint32(4 + int(random, out.length - 7), int(random, 2 ** 32), true);
      return ["overwritten field", out];
    }
    default: {
      const junk = bytes(random, int(random, 64));
      if (junk.length >= 4) new DataView(junk.buffer).setUint32(0, int(random, 128), true);
      return ["random bytes", junk];
    }
  }
}

/** Joins byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}
