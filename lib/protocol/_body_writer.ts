import { FRAME_PREFIX_BYTES, MAX_U32 } from "./limits.ts";

/**
 * What a message encoder writes its fields to. The encoder runs twice over the same
 * message: once into a {@linkcode BodySizer}, which validates every value and measures the
 * body, then into a {@linkcode BodyWriter} holding a frame buffer of exactly that size, so
 * the frame is allocated once and tensor bytes are copied once.
 */
export interface BodySink {
  u8(value: number, field: string): void;
  u16(value: number, field: string): void;
  u32(value: number, field: string): void;
  /** A finite float64; with `nonNegative`, also at least 0. */
  f64(value: number, field: string, nonNegative?: boolean): void;
  /** u32 count, then each value as i32. */
  i32List(values: readonly number[], field: string): void;
  /** u16 byte length, then UTF-8. */
  str16(value: string, field: string): void;
  /** u32 byte length, then UTF-8. */
  str32(value: string, field: string): void;
  /** u32 byte length, then the bytes. */
  bytes32(value: Uint8Array, field: string): void;
  /** The bytes alone, with no length. */
  raw(value: Uint8Array, field: string): void;
  /** Zero bytes up to the next multiple of `alignment` from the start of the body. */
  align(alignment: number): void;
}

const encoder = new TextEncoder();

function checkInteger(value: number, max: number, type: string, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode ${field}: ${value} is not a ${type}`);
  }
}

/** Validates fields and measures the body; keeps the UTF-8 of each string for the writer. */
export class BodySizer implements BodySink {
  #length = 0;
  /** UTF-8 of every string field, in the order they were written. */
  /** Each string field, as UTF-8 bytes or, when short and ASCII, as itself (its own bytes). */
  readonly strings: (Uint8Array | string)[] = [];

  /** Body length so far. */
  get byteLength(): number {
    return this.#length;
  }

  u8(value: number, field: string): void {
    checkInteger(value, 0xff, "u8", field);
    this.#length += 1;
  }

  u16(value: number, field: string): void {
    checkInteger(value, 0xffff, "u16", field);
    this.#length += 2;
  }

  u32(value: number, field: string): void {
    checkInteger(value, MAX_U32, "u32", field);
    this.#length += 4;
  }

  f64(value: number, field: string, nonNegative = false): void {
    if (typeof value !== "number") {
      throw new TypeError(`Cannot encode ${field}: ${typeof value} is not a number`);
    }
    if (!Number.isFinite(value) || (nonNegative && value < 0)) {
      const wanted = nonNegative ? "a finite number at least 0" : "a finite number";
      throw new RangeError(`Cannot encode ${field}: ${value} is not ${wanted}`);
    }
    this.#length += 8;
  }

  i32List(values: readonly number[], field: string): void {
    checkInteger(values.length, MAX_U32, "u32 count", field);
    for (const value of values) {
      if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
        throw new RangeError(`Cannot encode ${field}: ${value} is not an i32`);
      }
    }
    this.#length += 4 + 4 * values.length;
  }

  str16(value: string, field: string): void {
    this.#string(value, field, 0xffff);
    this.#length += 2;
  }

  str32(value: string, field: string): void {
    this.#string(value, field, MAX_U32);
    this.#length += 4;
  }

  bytes32(value: Uint8Array, field: string): void {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`Cannot encode ${field}: expected a Uint8Array`);
    }
    checkInteger(value.byteLength, MAX_U32, "u32 length", field);
    this.#length += 4 + value.byteLength;
  }

  raw(value: Uint8Array, field: string): void {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`Cannot encode ${field}: expected a Uint8Array`);
    }
    this.#length += value.byteLength;
  }

  align(alignment: number): void {
    this.#length += padding(this.#length, alignment);
  }

  #string(value: string, field: string, maxBytes: number): void {
    if (typeof value !== "string") {
      throw new TypeError(`Cannot encode ${field}: ${typeof value} is not a string`);
    }
    // Request ids and node ids are short ASCII: writing their char codes directly spares an
    // allocation per field, which dominates encoding small frames.
    if (value.length <= ASCII_FAST_PATH_MAX && value.length <= maxBytes && isAscii(value)) {
      this.strings.push(value);
      this.#length += value.length;
      return;
    }
    const utf8 = encoder.encode(value);
    if (utf8.byteLength > maxBytes) {
      throw new RangeError(
        `Cannot encode ${field}: ${utf8.byteLength} UTF-8 bytes exceed the limit of ${maxBytes}`,
      );
    }
    this.strings.push(utf8);
    this.#length += utf8.byteLength;
  }
}

/** Writes a body, already validated and measured by a {@linkcode BodySizer}, into a frame. */
export class BodyWriter implements BodySink {
  /** The whole frame: u32 body length, then the body. */
  readonly frame: Uint8Array;
  #view: DataView;
  #strings: (Uint8Array | string)[];
  #nextString = 0;
  /** Write position in `frame`. */
  #at = FRAME_PREFIX_BYTES;
  #deferred: Uint8Array | null;
  #deferredSeen = false;

  /**
   * Allocates a frame for a body measured by `sizer`. A `deferred` buffer, which must be
   * the body's last raw field, is left out of the frame: the caller sends it after the frame.
   */
  constructor(
    sizer: BodySizer,
    deferred: Uint8Array | null = null,
    scratch: Uint8Array | null = null,
  ) {
    if (sizer.byteLength > MAX_U32) {
      throw new RangeError(
        `Cannot encode frame: body of ${sizer.byteLength} bytes exceeds the limit of ${MAX_U32}`,
      );
    }
    this.#deferred = deferred;
    const frameBytes = FRAME_PREFIX_BYTES + sizer.byteLength - (deferred?.byteLength ?? 0);
    // Reusing the caller's scratch buffer spares an allocation per frame, which costs more
    // than encoding a small frame.
    this.frame = scratch !== null && scratch.byteLength >= frameBytes
      ? scratch.subarray(0, frameBytes)
      : new Uint8Array(frameBytes);
    this.#view = new DataView(this.frame.buffer, this.frame.byteOffset, this.frame.byteLength);
    this.#view.setUint32(0, sizer.byteLength, true);
    this.#strings = sizer.strings;
  }

  /** True once exactly the measured number of bytes has been written. */
  get complete(): boolean {
    return this.#at === this.frame.byteLength && this.#nextString === this.#strings.length &&
      (this.#deferred === null || this.#deferredSeen);
  }

  u8(value: number): void {
    this.frame[this.#at] = value;
    this.#at += 1;
  }

  u16(value: number): void {
    this.#view.setUint16(this.#at, value, true);
    this.#at += 2;
  }

  u32(value: number): void {
    this.#view.setUint32(this.#at, value, true);
    this.#at += 4;
  }

  f64(value: number): void {
    this.#view.setFloat64(this.#at, value, true);
    this.#at += 8;
  }

  i32List(values: readonly number[]): void {
    this.u32(values.length);
    for (const value of values) {
      this.#view.setInt32(this.#at, value, true);
      this.#at += 4;
    }
  }

  str16(): void {
    const value = this.#strings[this.#nextString++];
    this.u16(value.length);
    this.#text(value);
  }

  str32(): void {
    const value = this.#strings[this.#nextString++];
    this.u32(value.length);
    this.#text(value);
  }

  #text(value: Uint8Array | string): void {
    if (typeof value !== "string") return this.raw(value);
    for (let i = 0; i < value.length; i++) this.frame[this.#at + i] = value.charCodeAt(i);
    this.#at += value.length;
  }

  bytes32(value: Uint8Array): void {
    this.u32(value.byteLength);
    this.raw(value);
  }

  raw(value: Uint8Array): void {
    if (value === this.#deferred) {
      this.#deferredSeen = true;
      return;
    }
    this.frame.set(value, this.#at);
    this.#at += value.byteLength;
  }

  align(alignment: number): void {
    const end = this.#at + padding(this.#at - FRAME_PREFIX_BYTES, alignment);
    this.frame.fill(0, this.#at, end);
    this.#at = end;
  }
}

const ASCII_FAST_PATH_MAX = 256;

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Bytes needed after `offset` to reach a multiple of `alignment`. */
export function padding(offset: number, alignment: number): number {
  return (alignment - (offset % alignment)) % alignment;
}
