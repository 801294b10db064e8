import { deepStrictEqual, equal, throws } from "node:assert/strict";
import {
  decodeMessageBody,
  encodeMessage,
  FrameDecoder,
  type Message,
  ProtocolError,
  tensorFromTypedArray,
} from "../../lib/protocol/mod.ts";
import { frameOf, sampleMessages } from "./_fixtures.ts";

/** The body bytes of `message`, as a plain array to edit. */
function bodyOf(message: Message): number[] {
  return [...encodeMessage(message).subarray(4)];
}

function rejects(body: number[], message: string | RegExp): void {
  throws(() => new FrameDecoder().push(frameOf(body)), { name: "ProtocolError", message });
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

const ping = bodyOf({ type: "ping", id: 1, sentAt: 2.5 });
/** A float32 [2, 3] tensor: header 0-3, requestId "r" 4-6, step 7-10, shardIndex 11-12,
 * meta 13-16, dtype 17, ndim 18, dims 19-26, padding 27-31, data 32-55. */
const tensor = bodyOf({
  type: "tensor",
  requestId: "r",
  step: 0,
  shardIndex: 0,
  meta: "",
  tensor: tensorFromTypedArray("float32", [2, 3], new Float32Array(6)),
});
const tensorHead = tensor.slice(0, 17);

Deno.test("decodeMessageBody rejects an unknown message type", () => {
  rejects([77, 0, 0, 0], "Cannot decode frame: unknown message type 77");
  rejects([0, 0, 0, 0], "Cannot decode frame: unknown message type 0");
});

Deno.test("decodeMessageBody rejects non-zero flags and reserved bytes", () => {
  rejects([4, 1, ...ping.slice(2)], "Cannot decode frame: flags 1 are not 0");
  rejects([4, 0, 0, 2, ...ping.slice(4)], "Cannot decode frame: reserved field 512 is not 0");
});

Deno.test("decodeMessageBody rejects a body shorter than its header", () => {
  throws(() => decodeMessageBody(Uint8Array.of(4, 0)), {
    name: "ProtocolError",
    message: "Cannot decode frame: body of 2 bytes is shorter than the 4-byte header",
  });
});

Deno.test("decodeMessageBody rejects trailing bytes", () => {
  rejects([...ping, 0], "Cannot decode ping: 1 trailing byte after the message");
  rejects([...ping, 0, 0], "Cannot decode ping: 2 trailing bytes after the message");
});

Deno.test("decodeMessageBody rejects a truncated field", () => {
  rejects(ping.slice(0, -5), "Cannot decode ping: sentAt needs 8 bytes but 3 remain");
  rejects(ping.slice(0, 6), "Cannot decode ping: id needs 4 bytes but 2 remain");
});

Deno.test("decodeMessageBody rejects invalid UTF-8", () => {
  const body = bodyOf({ type: "cancel", requestId: "ab", reason: "" });
  body.splice(6, 2, 0xc3, 0x28);
  rejects(body, "Cannot decode cancel: requestId is not valid UTF-8");
});

Deno.test("decodeMessageBody rejects a string length beyond the body", () => {
  const body = bodyOf({ type: "cancel", requestId: "ab", reason: "" });
  body.splice(4, 2, 0xff, 0xff);
  rejects(body, "Cannot decode cancel: requestId needs 65535 bytes but 6 remain");
  rejects([3, 0, 0, 0, ...u32(0xffff_ffff)], /reason needs 4294967295 bytes but 0 remain/);
});

Deno.test("decodeMessageBody rejects a list count beyond the body", () => {
  rejects(
    [8, 0, 0, 0, 1, 0, 0x72, ...u32(0), ...u32(1e9), 1, 0, 0, 0],
    "Cannot decode prompt: tokens count 1000000000 needs at least 4000000000 bytes but 4 remain",
  );
  rejects([7, 0, 0, 0, ...u32(1), ...u32(0xffff_ffff)], /nodes count 4294967295 needs at least/);
  rejects([7, 0, 0, 0, ...u32(1), ...u32(0), ...u32(5)], /edges count 5 needs at least 20 bytes/);
});

Deno.test("decodeMessageBody rejects non-finite and negative numbers where impossible", () => {
  const nan = [0, 0, 0, 0, 0, 0, 0xf8, 0x7f];
  rejects(
    [...ping.slice(0, 8), ...nan],
    "Cannot decode ping: sentAt is NaN, expected a finite number",
  );
  const infinity = [0, 0, 0, 0, 0, 0, 0xf0, 0x7f];
  rejects([...ping.slice(0, 8), ...infinity], /sentAt is Infinity/);
  const hello = sampleMessages()[0];
  if (hello.type !== "hello") throw new TypeError("Cannot run test: first sample is not hello");
  const negative = bodyOf({ ...hello, capabilities: { ...hello.capabilities, memory: 1 } });
  const memoryAt = 4 + 4 + 2 + 2 + 4 + 2 + 11 + 2 + 12;
  negative[memoryAt + 7] |= 0x80;
  rejects(
    negative,
    "Cannot decode hello: capabilities.memory is -1, expected a finite number >= 0",
  );
});

Deno.test("decodeMessageBody rejects a hello without the magic", () => {
  const body = bodyOf(sampleMessages()[0]);
  body[4] = 0x46;
  rejects(body, 'Cannot decode hello: magic 70,88,79,78 is not "EXON"');
});

Deno.test("decodeMessageBody rejects tensor bytes that do not match the shape", () => {
  rejects(tensor.slice(0, -4), "Cannot decode tensor: shape [2,3] needs 24 bytes but 20 remain");
  rejects(
    [...tensor, 0, 0, 0, 0],
    "Cannot decode tensor: shape [2,3] needs 24 bytes but 28 remain",
  );
});

Deno.test("decodeMessageBody rejects more than 8 tensor dimensions", () => {
  rejects(
    [...tensorHead, 1, 9, ...new Array(9).fill(u32(1)).flat(), 0, 0, 0, 0, 0],
    /ndim 9 exceeds the limit of 8/,
  );
});

Deno.test("decodeMessageBody rejects an unknown dtype", () => {
  rejects(
    [...tensorHead, 99, 0, ...tensor.slice(19)],
    "Cannot decode tensor: unknown dtype code 99",
  );
});

Deno.test("decodeMessageBody rejects a shape whose size overflows", () => {
  const dims = [...u32(0xffff_ffff), ...u32(0xffff_ffff), ...u32(0xffff_ffff)];
  rejects(
    [...tensorHead, 1, 3, ...dims, 0],
    "Cannot decode tensor: shape [4294967295,4294967295,4294967295] of float32 is too large to address",
  );
});

Deno.test("decodeMessageBody rejects non-zero tensor padding", () => {
  const body = [...tensor];
  body[29] = 1;
  rejects(body, "Cannot decode tensor: padding is not zero");
});

Deno.test("decodeMessageBody rejects padding cut short", () => {
  rejects(tensor.slice(0, 30), "Cannot decode tensor: padding needs 5 bytes but 3 remain");
});

Deno.test("decodeMessageBody accepts an empty tensor and a scalar", () => {
  const head = { type: "tensor", requestId: "r", step: 0, shardIndex: 0, meta: "" } as const;
  for (const [shape, data] of [[[0, 5], new Int32Array(0)], [[], Int32Array.of(-7)]] as const) {
    const message = { ...head, tensor: tensorFromTypedArray("int32", [...shape], data) };
    deepStrictEqual(decodeMessageBody(encodeMessage(message).subarray(4)), message);
  }
});

Deno.test("decodeMessageBody aligns tensor data even for a body at an odd offset", () => {
  const buffer = new Uint8Array(tensor.length + 1);
  buffer.set(tensor, 1);
  const message = decodeMessageBody(buffer.subarray(1));
  if (message.type !== "tensor") throw new TypeError("Cannot run test: decoded no tensor");
  equal(message.tensor.data.byteOffset % 8, 0);
});

Deno.test("decodeMessageBody rejects an empty body", () => {
  throws(() => decodeMessageBody(new Uint8Array(0)), ProtocolError);
});

Deno.test("decodeMessageBody rejects a hello nonce that is not 32 bytes", () => {
  const body = bodyOf(sampleMessages()[0]);
  const lengthAt = body.length - 36;
  deepStrictEqual(body.slice(lengthAt, lengthAt + 4), u32(32));
  body.splice(lengthAt, 36, ...u32(31), ...new Array(31).fill(0));
  rejects(body, "Cannot decode hello: nonce of 31 bytes, expected 32");
});

Deno.test("decodeMessageBody rejects an auth proof that is neither empty nor 32 bytes", () => {
  rejects(
    [2, 0, 0, 0, ...u32(5), 1, 2, 3, 4, 5],
    "Cannot decode auth: proof of 5 bytes, expected 0 or 32",
  );
  deepStrictEqual(decodeMessageBody(Uint8Array.of(2, 0, 0, 0, ...u32(0))), {
    type: "auth",
    proof: new Uint8Array(0),
  });
});
