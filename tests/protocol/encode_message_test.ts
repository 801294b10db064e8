import { deepStrictEqual, throws } from "node:assert/strict";
import {
  encodeMessage,
  FrameDecoder,
  MESSAGE_TYPE_CODES,
  type MessageType,
  tensorFromTypedArray,
} from "../../lib/protocol/mod.ts";
import { sampleMessages } from "./_fixtures.ts";

Deno.test("encodeMessage writes a ping as golden bytes", () => {
  const frame = encodeMessage({ type: "ping", id: 1, sentAt: 2.5 });
  deepStrictEqual(
    [...frame],
    [
      ...[0x10, 0x00, 0x00, 0x00], // body length 16
      ...[0x04, 0x00, 0x00, 0x00], // type ping, flags, reserved
      ...[0x01, 0x00, 0x00, 0x00], // id 1
      ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40], // sentAt 2.5
    ],
  );
});

Deno.test("encodeMessage writes a small tensor as golden bytes with aligned data", () => {
  const frame = encodeMessage({
    type: "tensor",
    requestId: "r",
    step: 1,
    shardIndex: 0,
    meta: "",
    tensor: tensorFromTypedArray("float32", [1, 2], Float32Array.of(1, -2)),
  });
  deepStrictEqual(
    [...frame],
    [
      ...[0x28, 0x00, 0x00, 0x00], // body length 40
      ...[0x09, 0x00, 0x00, 0x00], // body 0: type tensor, flags, reserved
      ...[0x01, 0x00, 0x72], // body 4: requestId "r"
      ...[0x01, 0x00, 0x00, 0x00], // body 7: step 1
      ...[0x00, 0x00], // body 11: shardIndex 0
      ...[0x00, 0x00, 0x00, 0x00], // body 13: meta ""
      ...[0x01, 0x02], // body 17: dtype float32, ndim 2
      ...[0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00], // body 19: shape [1, 2]
      ...[0x00, 0x00, 0x00, 0x00, 0x00], // body 27: padding to 32
      ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], // body 32: 1.0, -2.0
    ],
  );
});

Deno.test("encodeMessage and FrameDecoder round-trip every message type", () => {
  const messages = sampleMessages();
  deepStrictEqual(
    new Set(messages.map((message) => message.type)),
    new Set(Object.keys(MESSAGE_TYPE_CODES) as MessageType[]),
  );
  for (const message of messages) {
    const decoded = new FrameDecoder().push(encodeMessage(message));
    deepStrictEqual(decoded, [message], `round trip of ${message.type}`);
  }
});

Deno.test("encodeMessage gives every message type its own code", () => {
  const codes = sampleMessages().map((message) => encodeMessage(message)[4]);
  deepStrictEqual(codes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14]);
});

Deno.test("encodeMessage rejects numbers that do not fit their field", () => {
  throws(() => encodeMessage({ type: "ping", id: -1, sentAt: 0 }), {
    name: "RangeError",
    message: "Cannot encode ping.id: -1 is not a u32",
  });
  throws(() => encodeMessage({ type: "ping", id: 2 ** 32, sentAt: 0 }), RangeError);
  throws(() => encodeMessage({ type: "ping", id: 1.5, sentAt: 0 }), RangeError);
  throws(() => encodeMessage({ type: "pong", id: 1, sentAt: NaN }), {
    name: "RangeError",
    message: "Cannot encode pong.sentAt: NaN is not a finite number",
  });
  throws(
    () =>
      encodeMessage({
        type: "token",
        requestId: "r",
        step: 0,
        tokens: [2 ** 31],
        finishReason: "",
      }),
    { name: "RangeError", message: "Cannot encode token.tokens: 2147483648 is not an i32" },
  );
  const [hello] = sampleMessages();
  if (hello.type !== "hello") throw new TypeError("Cannot run test: first sample is not hello");
  throws(
    () => encodeMessage({ ...hello, capabilities: { ...hello.capabilities, memory: -1 } }),
    { name: "RangeError", message: /hello\.capabilities\.memory: -1/ },
  );
});

Deno.test("encodeMessage rejects a short string field above 65535 UTF-8 bytes", () => {
  throws(() => encodeMessage({ type: "cancel", requestId: "é".repeat(32768), reason: "" }), {
    name: "RangeError",
    message: "Cannot encode cancel.requestId: 65536 UTF-8 bytes exceed the limit of 65535",
  });
});

Deno.test("encodeMessage rejects a tensor whose bytes do not match its shape", () => {
  throws(
    () =>
      encodeMessage({
        type: "tensor",
        requestId: "r",
        step: 0,
        shardIndex: 0,
        meta: "",
        tensor: { dtype: "float32", shape: [2, 3], data: new Uint8Array(20) },
      }),
    {
      name: "RangeError",
      message: "Cannot encode tensor: shape [2,3] needs 24 bytes but data has 20",
    },
  );
});

Deno.test("encodeMessage rejects a tensor with too many dimensions", () => {
  throws(
    () =>
      encodeMessage({
        type: "tensor",
        requestId: "r",
        step: 0,
        shardIndex: 0,
        meta: "",
        tensor: { dtype: "int8", shape: new Array(9).fill(1), data: new Uint8Array(1) },
      }),
    { name: "RangeError", message: /9 dimensions exceed the limit of 8/ },
  );
});

Deno.test("encodeMessage rejects an unknown message type", () => {
  throws(() => encodeMessage({ type: "nope" } as unknown as Parameters<typeof encodeMessage>[0]), {
    name: "TypeError",
    message: "Cannot encode message: unknown type nope",
  });
});

Deno.test("encodeMessage rejects a nonce or proof of the wrong size", () => {
  const [hello] = sampleMessages();
  if (hello.type !== "hello") throw new TypeError("Cannot run test: first sample is not hello");
  throws(() => encodeMessage({ ...hello, nonce: new Uint8Array(16) }), {
    name: "RangeError",
    message: "Cannot encode hello.nonce: 16 bytes, expected 32",
  });
  throws(() => encodeMessage({ type: "auth", proof: new Uint8Array(31) }), {
    name: "RangeError",
    message: "Cannot encode auth.proof: 31 bytes, expected 0 or 32",
  });
});
