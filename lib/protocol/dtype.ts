import type { DType } from "./messages.ts";

/** The u8 code that names a tensor's element type on the wire. */
export const DTYPE_CODES: Readonly<Record<DType, number>> = {
  float32: 1,
  float16: 2,
  bfloat16: 3,
  int32: 4,
  int64: 5,
  uint8: 6,
  int8: 7,
};

const ITEM_SIZES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
};

const DTYPES_BY_CODE: ReadonlyMap<number, DType> = new Map(
  Object.entries(DTYPE_CODES).map(([dtype, code]) => [code, dtype as DType]),
);

/** Returns true if `value` is one of the element types the protocol carries. */
export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(ITEM_SIZES, value);
}

/**
 * Returns the size in bytes of one element of `dtype`.
 *
 * @throws {TypeError} If `dtype` is not a known element type.
 */
export function dtypeItemSize(dtype: DType): number {
  if (!isDType(dtype)) throw new TypeError(`Cannot size dtype: unknown dtype ${String(dtype)}`);
  return ITEM_SIZES[dtype];
}

/** Returns the element type for a wire code, or undefined for an unknown code. */
export function dtypeFromCode(code: number): DType | undefined {
  return DTYPES_BY_CODE.get(code);
}
