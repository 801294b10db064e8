import { deepStrictEqual, equal, throws } from "node:assert/strict";
import {
  encodeMessage,
  FrameDecoder,
  type Message,
  ProtocolError,
  tensorFromTypedArray,
  tensorView,
} from "../../lib/protocol/mod.ts";
import { sampleMessages, seededRandom } from "./_fixtures.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.byteLength;
  }
  return all;
}

const stream = concat(sampleMessages().map(encodeMessage));

Deno.test("FrameDecoder decodes several frames pushed in one chunk", () => {
  const decoder = new FrameDecoder();
  deepStrictEqual(decoder.push(stream), sampleMessages());
  equal(decoder.bufferedBytes, 0);
});

Deno.test("FrameDecoder gives the same messages when fed one byte at a time", () => {
  const decoder = new FrameDecoder();
  const messages: Message[] = [];
  for (let i = 0; i < stream.byteLength; i++) {
    messages.push(...decoder.push(stream.subarray(i, i + 1)));
  }
  deepStrictEqual(messages, sampleMessages());
  equal(decoder.bufferedBytes, 0);
});

Deno.test("FrameDecoder gives the same messages at random split points", () => {
  const random = seededRandom(1234);
  for (let round = 0; round < 200; round++) {
    const decoder = new FrameDecoder();
    const messages: Message[] = [];
    let at = 0;
    while (at < stream.byteLength) {
      const end = Math.min(stream.byteLength, at + Math.floor(random() * 64));
      messages.push(...decoder.push(stream.subarray(at, end)));
      at = end;
    }
    deepStrictEqual(messages, sampleMessages(), `round ${round}`);
  }
});

Deno.test("FrameDecoder keeps no reference to a pushed chunk", () => {
  const message = sampleMessages().find((message) => message.type === "tensor")!;
  const frame = encodeMessage(message);
  const chunk = new Uint8Array(frame.byteLength);
  const decoder = new FrameDecoder();
  const half = frame.byteLength >> 1;
  chunk.set(frame.subarray(0, half));
  deepStrictEqual(decoder.push(chunk.subarray(0, half)), []);
  chunk.fill(0xee);
  chunk.set(frame.subarray(half), half);
  const decoded = decoder.push(chunk.subarray(half));
  chunk.fill(0xee);
  deepStrictEqual(decoded, [message]);
});

Deno.test("FrameDecoder reports the bytes of an incomplete frame", () => {
  const frame = encodeMessage({ type: "ping", id: 1, sentAt: 0 });
  const decoder = new FrameDecoder();
  decoder.push(frame.subarray(0, 2));
  equal(decoder.bufferedBytes, 2);
  decoder.push(frame.subarray(2, 9));
  equal(decoder.bufferedBytes, 9);
  equal(decoder.push(frame.subarray(9)).length, 1);
  equal(decoder.bufferedBytes, 0);
});

Deno.test("FrameDecoder returns 8-aligned tensor data viewable without a copy", () => {
  const values = Float32Array.from({ length: 2048 }, (_, i) => i / 3);
  const frame = encodeMessage({
    type: "tensor",
    requestId: "r",
    step: 0,
    shardIndex: 0,
    meta: "{}",
    tensor: tensorFromTypedArray("float32", [1, 1, 2048], values),
  });
  // Three junk bytes before the stream put the tensor frame at an odd offset of the chunk.
  const chunk = concat([new Uint8Array(3), encodeMessage({ type: "status", json: "x" }), frame]);
  const [, decoded] = new FrameDecoder().push(chunk.subarray(3));
  if (decoded.type !== "tensor") throw new TypeError("Cannot run test: decoded no tensor");
  equal(decoded.tensor.data.byteOffset % 8, 0);
  const view = tensorView(decoded.tensor);
  equal(view.buffer, decoded.tensor.data.buffer, "view shares the decoded buffer");
  deepStrictEqual(view, values);
});

Deno.test("FrameDecoder rejects a length above the limit as soon as the prefix arrives", () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 8192 });
  deepStrictEqual(decoder.push(Uint8Array.of(0x28, 0x23)), []);
  throws(() => decoder.push(Uint8Array.of(0x00, 0x00)), ProtocolError);
  const fresh = new FrameDecoder({ maxFrameBytes: 8192 });
  throws(() => fresh.push(Uint8Array.of(0x28, 0x23, 0x00, 0x00)), {
    name: "ProtocolError",
    message: "Cannot decode frame: declared length 9000 exceeds 8192",
  });
  equal(fresh.bufferedBytes, 0, "no body was buffered");
});

Deno.test("FrameDecoder accepts a frame exactly at the limit", () => {
  const frame = encodeMessage({ type: "status", json: "x".repeat(100) });
  const decoder = new FrameDecoder({ maxFrameBytes: frame.byteLength - 4 });
  equal(decoder.push(frame).length, 1);
});

Deno.test("FrameDecoder applies a raised limit to the next frame", () => {
  const frame = encodeMessage({ type: "status", json: "x".repeat(70 * 1024) });
  const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 });
  equal(decoder.maxFrameBytes, 64 * 1024);
  decoder.maxFrameBytes = 1024 * 1024;
  equal(decoder.push(frame).length, 1);
});

Deno.test("FrameDecoder defaults to a 1 GiB limit", () => {
  equal(new FrameDecoder().maxFrameBytes, 1024 ** 3);
});

Deno.test("FrameDecoder rejects an invalid limit", () => {
  throws(() => new FrameDecoder({ maxFrameBytes: 0 }), RangeError);
  throws(() => new FrameDecoder({ maxFrameBytes: 2 ** 32 }), RangeError);
  throws(() => (new FrameDecoder().maxFrameBytes = 1.5), RangeError);
});

Deno.test("FrameDecoder rejects a body shorter than its header", () => {
  throws(() => new FrameDecoder().push(Uint8Array.of(3, 0, 0, 0, 4, 0, 0)), {
    name: "ProtocolError",
    message: "Cannot decode frame: declared length 3 is shorter than the 4-byte header",
  });
});

Deno.test("FrameDecoder stays poisoned after a protocol error", () => {
  const decoder = new FrameDecoder();
  const bad = Uint8Array.of(4, 0, 0, 0, 77, 0, 0, 0);
  throws(() => decoder.push(bad), {
    name: "ProtocolError",
    message: "Cannot decode frame: unknown message type 77",
  });
  throws(() => decoder.push(encodeMessage({ type: "topology_request", id: 1 })), {
    name: "ProtocolError",
    message: "Cannot decode frame: unknown message type 77",
  });
});
