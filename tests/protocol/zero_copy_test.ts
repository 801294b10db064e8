import { deepStrictEqual, equal, notStrictEqual, ok, throws } from "node:assert/strict";
import {
  encodeMessage,
  encodeMessageParts,
  FrameDecoder,
  type Message,
  tensorFromTypedArray,
  ZERO_COPY_MIN_BYTES,
} from "../../lib/protocol/mod.ts";
import { concat } from "./_random_frames.ts";

function tensorMessage(elements: number, requestId = "req-1"): Message {
  const values = new Float32Array(elements).map((_, i) => i * 0.5);
  return {
    type: "tensor",
    requestId,
    step: 7,
    shardIndex: 1,
    meta: '{"model":"é"}',
    tensor: tensorFromTypedArray("float32", [1, elements], values),
  };
}

Deno.test("encodeMessageParts sends a large tensor's bytes without copying them", () => {
  const message = tensorMessage(ZERO_COPY_MIN_BYTES / 4);
  const parts = encodeMessageParts(message);
  equal(parts.length, 2);
  ok(message.type === "tensor" && parts[1] === message.tensor.data);
  deepStrictEqual(concat(parts), encodeMessage(message));
});

Deno.test("encodeMessageParts into a dirty scratch buffer equals a fresh encoding", () => {
  const scratch = new Uint8Array(64 * 1024).fill(0xff);
  for (const message of [tensorMessage(3), tensorMessage(2048, "ñandú"), tensorMessage(1)]) {
    const parts = encodeMessageParts(message, scratch);
    equal(parts.length, 1);
    equal(parts[0].buffer, scratch.buffer);
    deepStrictEqual([...parts[0]], [...encodeMessage(message)]);
  }
  const tooBig = encodeMessageParts(tensorMessage(20_000), new Uint8Array(16));
  notStrictEqual(tooBig[0].buffer.byteLength, 16);
  deepStrictEqual([...concat(tooBig)], [...encodeMessage(tensorMessage(20_000))]);
});

Deno.test("FrameDecoder gives small frames separate, aligned tensor bytes", () => {
  const decoder = new FrameDecoder();
  const frames = concat(
    [tensorMessage(3), tensorMessage(5), tensorMessage(2048)].map(encodeMessage),
  );
  const decoded = decoder.push(frames);
  equal(decoded.length, 3);
  const views = decoded.map((m) => {
    ok(m.type === "tensor");
    equal(m.tensor.data.byteOffset % 8, 0);
    return new Float32Array(m.tensor.data.buffer, m.tensor.data.byteOffset, m.tensor.shape[1]);
  });
  views[0].fill(-1);
  deepStrictEqual([...views[1]], [0, 0.5, 1, 1.5, 2]);
  equal(views[2][2047], 1023.5);
});

Deno.test("FrameDecoder lets a transport read a large body in place", () => {
  const message = tensorMessage(ZERO_COPY_MIN_BYTES);
  const frame = encodeMessage(message);
  const decoder = new FrameDecoder();
  equal(decoder.pendingBody(), null);
  deepStrictEqual(decoder.push(frame.subarray(0, 100)), []);
  const body = decoder.pendingBody()!;
  equal(body.byteLength, frame.length - 100);
  body.set(frame.subarray(100, 1000));
  deepStrictEqual(decoder.advance(900), []);
  decoder.pendingBody()!.set(frame.subarray(1000));
  throws(() => decoder.advance(frame.length), RangeError);
  const [decoded] = decoder.advance(frame.length - 1000);
  deepStrictEqual(decoded, message);
  equal(decoder.pendingBody(), null);
  throws(() => decoder.advance(1), RangeError);
});

Deno.test("Short ASCII and non-ASCII strings round-trip through the fast paths", () => {
  const decoder = new FrameDecoder();
  for (const requestId of ["a", "req-123", "x".repeat(300), "naïve", "🦙 id", ""]) {
    const message: Message = { type: "cancel", requestId, reason: requestId + "!" };
    deepStrictEqual(decoder.push(encodeMessage(message)), [message]);
  }
});
