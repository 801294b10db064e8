import { dtypeItemSize } from "./dtype.ts";
import { MAX_TENSOR_NDIM, MAX_U32 } from "./limits.ts";
import type { DType, TensorData } from "./messages.ts";

/** The typed array {@linkcode tensorView} returns for each element type. */
export interface TensorViewTypes {
  float32: Float32Array;
  /** Raw IEEE half-precision bits. */
  float16: Uint16Array;
  /** Raw bfloat16 bits (the high half of a float32). */
  bfloat16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  int8: Int8Array;
}

/**
 * Returns the number of elements of a tensor with `shape` (1 for a scalar, shape `[]`).
 *
 * @throws {RangeError} If the shape has more than 8 dimensions, a dimension that is not an
 * integer in [0, 2^32 - 1], or a product that is not a safe integer.
 */
export function tensorElementCount(shape: readonly number[]): number {
  if (shape.length > MAX_TENSOR_NDIM) {
    throw new RangeError(
      `Cannot size tensor: ${shape.length} dimensions exceed the limit of ${MAX_TENSOR_NDIM}`,
    );
  }
  let count = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0 || dim > MAX_U32) {
      throw new RangeError(`Cannot size tensor: dimension ${dim} in [${shape}] is not a u32`);
    }
    count *= dim;
    if (!Number.isSafeInteger(count)) {
      throw new RangeError(`Cannot size tensor: shape [${shape}] has too many elements`);
    }
  }
  return count;
}

/**
 * Returns the byte length of a tensor of `dtype` with `shape`.
 *
 * @throws {RangeError} If the shape is invalid (see {@linkcode tensorElementCount}).
 * @throws {TypeError} If `dtype` is unknown.
 */
export function tensorByteLength(dtype: DType, shape: readonly number[]): number {
  const bytes = tensorElementCount(shape) * dtypeItemSize(dtype);
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`Cannot size tensor: shape [${shape}] has too many bytes`);
  }
  return bytes;
}

/**
 * Wraps the bytes of `typed` as a tensor without copying them.
 *
 * @example Send a hidden state
 * ```ts
 * const hidden = new Float32Array(2048);
 * const tensor = tensorFromTypedArray("float32", [1, 1, 2048], hidden);
 * ```
 *
 * @throws {RangeError} If the shape is invalid or does not match the byte length of `typed`.
 * @throws {TypeError} If the element size of `typed` differs from that of `dtype`.
 */
export function tensorFromTypedArray(
  dtype: DType,
  shape: readonly number[],
  typed: ArrayBufferView,
): TensorData {
  const itemSize = dtypeItemSize(dtype);
  const elementSize = (typed as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT;
  if (elementSize !== undefined && elementSize !== itemSize) {
    throw new TypeError(
      `Cannot wrap tensor: ${typed.constructor.name} has ${elementSize}-byte elements, ${dtype} has ${itemSize}`,
    );
  }
  const expected = tensorByteLength(dtype, shape);
  if (typed.byteLength !== expected) {
    throw new RangeError(
      `Cannot wrap tensor: shape [${shape}] needs ${expected} bytes but the array has ${typed.byteLength}`,
    );
  }
  const data = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  return { dtype, shape: [...shape], data };
}

/**
 * Returns the tensor's elements as the typed array of its dtype. A decoded tensor is
 * viewed in place; bytes at an offset the typed array cannot start at are copied first.
 */
export function tensorView<D extends DType>(
  tensor: TensorData & { dtype: D },
): TensorViewTypes[D] {
  const itemSize = dtypeItemSize(tensor.dtype);
  let data = tensor.data;
  if (data.byteLength % itemSize !== 0) {
    throw new RangeError(
      `Cannot view tensor: ${data.byteLength} bytes are not a whole number of ${tensor.dtype} elements`,
    );
  }
  if (data.byteOffset % itemSize !== 0) data = data.slice();
  return viewAs(
    tensor.dtype,
    data.buffer,
    data.byteOffset,
    data.byteLength / itemSize,
  ) as TensorViewTypes[D];
}

function viewAs(
  dtype: DType,
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
): TensorViewTypes[DType] {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, byteOffset, length);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buffer, byteOffset, length);
    case "int32":
      return new Int32Array(buffer, byteOffset, length);
    case "int64":
      return new BigInt64Array(buffer, byteOffset, length);
    case "uint8":
      return new Uint8Array(buffer, byteOffset, length);
    case "int8":
      return new Int8Array(buffer, byteOffset, length);
  }
}
