import assert from "node:assert/strict";
import { ProtoWriter } from "../../../lib/inference/onnx/protobuf_writer.ts";

Deno.test("ProtoWriter encodes a varint field as in the protobuf spec", () => {
  // The spec's example: field 1 = 150 is 08 96 01.
  assert.deepEqual([...new ProtoWriter().int(1, 150).finish()], [0x08, 0x96, 0x01]);
});

Deno.test("ProtoWriter encodes integers above 32 bits without overflow", () => {
  const bytes = new ProtoWriter().int(1, 2 ** 40 + 3).finish();
  let value = 0n;
  for (let i = bytes.length - 1; i >= 1; i--) value = (value << 7n) | BigInt(bytes[i] & 0x7f);
  assert.equal(value, 2n ** 40n + 3n);
});

Deno.test("ProtoWriter encodes a negative int64 as ten bytes of two's complement", () => {
  const bytes = new ProtoWriter().int(3, -1).finish();
  assert.deepEqual([...bytes], [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

Deno.test("ProtoWriter writes strings, floats and nested messages length-delimited", () => {
  const bytes = new ProtoWriter()
    .string(2, "ab")
    .float(3, 1.5)
    .message(4, (w) => w.int(1, 1))
    .finish();
  assert.deepEqual([...bytes], [
    0x12,
    0x02,
    0x61,
    0x62,
    0x1d,
    0x00,
    0x00,
    0xc0,
    0x3f,
    0x22,
    0x02,
    0x08,
    0x01,
  ]);
});

Deno.test("ProtoWriter packs repeated ints into one length-delimited field", () => {
  const bytes = new ProtoWriter().packedInts(1, [1, 300, -1]).finish();
  assert.equal(bytes[0], 0x0a);
  assert.equal(bytes[1], 1 + 2 + 10);
  assert.deepEqual([...bytes.subarray(2, 5)], [0x01, 0xac, 0x02]);
});

Deno.test("ProtoWriter grows past its initial buffer", () => {
  const big = new Uint8Array(10_000).fill(7);
  const bytes = new ProtoWriter().bytes(1, big).finish();
  assert.equal(bytes.length, 1 + 2 + 10_000);
  assert.equal(bytes[bytes.length - 1], 7);
});

Deno.test("ProtoWriter rejects unsafe integers and bad field numbers", () => {
  assert.throws(() => new ProtoWriter().int(1, 2 ** 60), RangeError);
  assert.throws(() => new ProtoWriter().int(0, 1), RangeError);
});
