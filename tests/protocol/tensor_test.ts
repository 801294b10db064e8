import { deepStrictEqual, equal, throws } from "node:assert/strict";
import {
  type DType,
  DTYPE_CODES,
  dtypeFromCode,
  dtypeItemSize,
  tensorByteLength,
  tensorElementCount,
  tensorFromTypedArray,
  tensorView,
} from "../../lib/protocol/mod.ts";

Deno.test("dtypeItemSize gives the byte size of every dtype", () => {
  const sizes = Object.fromEntries(
    (Object.keys(DTYPE_CODES) as DType[]).map((dtype) => [dtype, dtypeItemSize(dtype)]),
  );
  deepStrictEqual(sizes, {
    float32: 4,
    float16: 2,
    bfloat16: 2,
    int32: 4,
    int64: 8,
    uint8: 1,
    int8: 1,
  });
  throws(() => dtypeItemSize("float64" as DType), TypeError);
});

Deno.test("dtypeFromCode inverts DTYPE_CODES and rejects unknown codes", () => {
  for (const [dtype, code] of Object.entries(DTYPE_CODES)) equal(dtypeFromCode(code), dtype);
  equal(dtypeFromCode(0), undefined);
  equal(dtypeFromCode(99), undefined);
});

Deno.test("tensorElementCount counts elements and rejects impossible shapes", () => {
  equal(tensorElementCount([]), 1);
  equal(tensorElementCount([1, 512, 2048]), 1048576);
  equal(tensorElementCount([3, 0, 7]), 0);
  throws(() => tensorElementCount([2, -1]), RangeError);
  throws(() => tensorElementCount([2.5]), RangeError);
  throws(() => tensorElementCount(new Array(9).fill(1)), RangeError);
  throws(() => tensorElementCount([2 ** 32 - 1, 2 ** 32 - 1]), {
    name: "RangeError",
    message: /has too many elements/,
  });
  equal(tensorByteLength("int64", [2, 3]), 48);
});

Deno.test("tensorFromTypedArray wraps the array's bytes without copying", () => {
  const values = new Float32Array(8).subarray(2, 8);
  const tensor = tensorFromTypedArray("float32", [2, 3], values);
  equal(tensor.data.buffer, values.buffer);
  equal(tensor.data.byteOffset, 8);
  equal(tensor.data.byteLength, 24);
});

Deno.test("tensorFromTypedArray rejects a shape or element size that does not match", () => {
  throws(() => tensorFromTypedArray("float32", [2, 2], new Float32Array(3)), {
    name: "RangeError",
    message: "Cannot wrap tensor: shape [2,2] needs 16 bytes but the array has 12",
  });
  throws(() => tensorFromTypedArray("float32", [4], new Uint8Array(16)), TypeError);
});

Deno.test("tensorView views each dtype as its typed array", () => {
  deepStrictEqual(
    tensorView(tensorFromTypedArray("int64", [2], BigInt64Array.of(-1n, 2n))),
    BigInt64Array.of(-1n, 2n),
  );
  deepStrictEqual(
    tensorView(tensorFromTypedArray("int8", [1], Int8Array.of(-3))),
    Int8Array.of(-3),
  );
  deepStrictEqual(
    tensorView(tensorFromTypedArray("bfloat16", [1], Uint16Array.of(0x3f80))),
    Uint16Array.of(0x3f80),
  );
});

Deno.test("tensorView copies bytes that sit at an offset the typed array cannot start at", () => {
  const bytes = new Uint8Array(9);
  bytes.set(new Uint8Array(Float32Array.of(1.5, -2).buffer), 1);
  const view = tensorView({ dtype: "float32", shape: [2], data: bytes.subarray(1) });
  deepStrictEqual(view, Float32Array.of(1.5, -2));
});
