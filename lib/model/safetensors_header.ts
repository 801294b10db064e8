/**
 * The safetensors header: an 8-byte little-endian length, then that many bytes of JSON
 * describing each tensor's dtype, shape and byte range in the data area that follows.
 * Parsing is pure so that corrupt headers are tested without files.
 *
 * @module
 */

import { CheckpointError } from "./checkpoint_error.ts";

/** Element types a safetensors file may declare. */
export type SafetensorsDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "F8_E4M3"
  | "F8_E5M2"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** One tensor as the header describes it. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  /** Dimensions, outermost first; PyTorch Linear weights are [outFeatures, inFeatures]. */
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data area. */
  begin: number;
  end: number;
}

/** A parsed header. */
export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  /** The free-form `__metadata__` object, or null when absent. */
  metadata: Record<string, unknown> | null;
}

/** Size of the length prefix. */
export const SAFETENSORS_PREFIX_BYTES = 8;

/** Headers above this size are refused, as the reference implementation does. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/**
 * Reads the header length from the first 8 bytes of a file of `fileSize` bytes and checks
 * that the header fits in the file.
 */
export function readSafetensorsHeaderLength(
  prefix: Uint8Array,
  fileSize: number,
  source: string,
): number {
  const fail = (detail: string) =>
    new CheckpointError(`Cannot read safetensors file ${source}: ${detail}`);
  if (prefix.byteLength < SAFETENSORS_PREFIX_BYTES || fileSize < SAFETENSORS_PREFIX_BYTES) {
    throw fail(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, SAFETENSORS_PREFIX_BYTES);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw fail(`header length ${length} exceeds the limit of ${MAX_SAFETENSORS_HEADER_BYTES}`);
  }
  const headerLength = Number(length);
  if (headerLength > fileSize - SAFETENSORS_PREFIX_BYTES) {
    throw fail(
      `header length ${headerLength} exceeds the ${
        fileSize - SAFETENSORS_PREFIX_BYTES
      } bytes after the length prefix`,
    );
  }
  return headerLength;
}

const KNOWN_DTYPES = new Set(Object.keys(SAFETENSORS_ITEM_SIZE));

/**
 * Parses and validates the JSON header. `dataSize` is the number of bytes after the header;
 * every tensor's byte range must lie within it and match its shape and dtype.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataSize: number,
  source: string,
): SafetensorsHeader {
  const fail = (detail: string) =>
    new CheckpointError(`Cannot read safetensors file ${source}: ${detail}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new CheckpointError(
      `Cannot read safetensors file ${source}: header is not valid JSON: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  if (!isPlainObject(json)) throw fail("header is not a JSON object");

  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, unknown> | null = null;
  for (const [name, entry] of Object.entries(json)) {
    if (name === "__metadata__") {
      if (!isPlainObject(entry)) throw fail("__metadata__ is not an object");
      metadata = entry;
      continue;
    }
    tensors.set(name, parseTensorEntry(name, entry, dataSize, fail));
  }
  return { tensors, metadata };
}

function parseTensorEntry(
  name: string,
  entry: unknown,
  dataSize: number,
  fail: (detail: string) => CheckpointError,
): TensorInfo {
  if (!isPlainObject(entry)) throw fail(`tensor ${name} is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string" || !KNOWN_DTYPES.has(dtype)) {
    throw fail(`tensor ${name} has unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw fail(
      `tensor ${name} shape ${JSON.stringify(shape)} is not a list of non-negative integers`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw fail(`tensor ${name} data_offsets ${JSON.stringify(offsets)} are not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw fail(`tensor ${name} data_offsets [${begin}, ${end}] end before they begin`);
  }
  if (end > dataSize) {
    throw fail(`tensor ${name} data_offsets [${begin}, ${end}] exceed data size ${dataSize}`);
  }
  const itemSize = SAFETENSORS_ITEM_SIZE[dtype as SafetensorsDType];
  const expected = (shape as number[]).reduce((product, dim) => product * dim, 1) * itemSize;
  if (end - begin !== expected) {
    throw fail(
      `tensor ${name} data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} [${
        shape.join(", ")
      }] needs ${expected}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
