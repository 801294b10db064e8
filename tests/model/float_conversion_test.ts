import assert from "node:assert/strict";
import {
  bfloat16BytesToFloat32,
  decodeBfloat16Into,
  decodeFloat16Into,
  float16BytesToFloat32,
} from "../../lib/model/float_conversion.ts";

function bytesOf(words: number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(words).buffer);
}

Deno.test("float16BytesToFloat32 decodes known bit patterns exactly", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const out = float16BytesToFloat32(bytesOf(cases.map(([bits]) => bits)));
  assert.deepEqual([...out], cases.map(([, value]) => value));
  assert.ok(Object.is(float16BytesToFloat32(bytesOf([0x8000]))[0], -0));
  assert.ok(Number.isNaN(float16BytesToFloat32(bytesOf([0x7e00]))[0]));
});

Deno.test("float16BytesToFloat32 agrees with Float16Array on every bit pattern", () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const ours = float16BytesToFloat32(new Uint8Array(all.buffer));
  const platform = new Float16Array(all.buffer);
  for (let i = 0; i < 65536; i++) {
    if (!Object.is(ours[i], platform[i]) && !(Number.isNaN(ours[i]) && Number.isNaN(platform[i]))) {
      assert.fail(`bits 0x${i.toString(16)}: got ${ours[i]}, expected ${platform[i]}`);
    }
  }
});

Deno.test("bfloat16BytesToFloat32 decodes known bit patterns exactly", () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625],
    [0x0001, 2 ** -133],
    [0x7f7f, 3.3895313892515355e38],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ];
  const out = bfloat16BytesToFloat32(bytesOf(cases.map(([bits]) => bits)));
  assert.deepEqual([...out], cases.map(([, value]) => value));
  assert.ok(Object.is(bfloat16BytesToFloat32(bytesOf([0x8000]))[0], -0));
  assert.ok(Number.isNaN(bfloat16BytesToFloat32(bytesOf([0x7fc0]))[0]));
});

Deno.test("half-precision conversion reads a misaligned slice", () => {
  const buffer = new Uint8Array(5);
  buffer.set([0x00, 0x3c, 0x00, 0xc0], 1); // float16 1, -2 at odd offset 1
  assert.deepEqual([...float16BytesToFloat32(buffer.subarray(1))], [1, -2]);
  buffer.set([0x80, 0x3f, 0x00, 0xc0], 1); // bfloat16 1, -2
  assert.deepEqual([...bfloat16BytesToFloat32(buffer.subarray(1))], [1, -2]);
});

Deno.test("half-precision conversion refuses an odd byte length", () => {
  assert.throws(() => float16BytesToFloat32(new Uint8Array(3)), RangeError);
  assert.throws(() => bfloat16BytesToFloat32(new Uint8Array(3)), RangeError);
});

Deno.test("decoding into a buffer writes at the offset and refuses to overflow it", () => {
  const out = new Float32Array(4).fill(9);
  decodeFloat16Into(bytesOf([0x3c00, 0xc000]), out, 1);
  assert.deepEqual([...out], [9, 1, -2, 9]);
  decodeBfloat16Into(bytesOf([0x4049]), out, 3);
  assert.deepEqual([...out], [9, 1, -2, 3.140625]);
  assert.throws(() => decodeFloat16Into(bytesOf([0, 0]), out, 3), RangeError);
  assert.throws(() => decodeBfloat16Into(bytesOf([0]), out, -1), RangeError);
});
