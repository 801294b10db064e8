import { padding } from "./_body_writer.ts";
import { ProtocolError } from "./protocol_error.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads the fields of one frame body, checking every length against the bytes that remain
 * before reading; every failure is a {@linkcode ProtocolError} that names the field.
 */
export class BodyReader {
  readonly #body: Uint8Array;
  readonly #view: DataView;
  #at = 0;
  /** What is being decoded, for error messages ("frame", "ping", "tensor"). */
  context = "frame";

  /** Reads `body`, which must hold exactly one body. */
  constructor(body: Uint8Array) {
    this.#body = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  /** Read position from the start of the body. */
  get offset(): number {
    return this.#at;
  }

  /** Bytes left after the read position. */
  get remaining(): number {
    return this.#body.byteLength - this.#at;
  }

  /** Throws a {@linkcode ProtocolError} about the current context. */
  fail(detail: string): never {
    throw new ProtocolError(`Cannot decode ${this.context}: ${detail}`);
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.#body[this.#at++];
  }

  u16(field: string): number {
    this.#need(2, field);
    const value = this.#view.getUint16(this.#at, true);
    this.#at += 2;
    return value;
  }

  u32(field: string): number {
    this.#need(4, field);
    const value = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  /** A finite float64; with `nonNegative`, also at least 0. */
  f64(field: string, nonNegative = false): number {
    this.#need(8, field);
    const value = this.#view.getFloat64(this.#at, true);
    if (!Number.isFinite(value) || (nonNegative && value < 0)) {
      this.fail(`${field} is ${value}, expected a finite number${nonNegative ? " >= 0" : ""}`);
    }
    this.#at += 8;
    return value;
  }

  /**
   * A u32 item count, checked against the remaining bytes given that each item takes at
   * least `minItemBytes`, so a forged count cannot make the caller allocate or loop.
   */
  count(field: string, minItemBytes: number): number {
    const count = this.u32(`${field} count`);
    if (count * minItemBytes > this.remaining) {
      this.fail(
        `${field} count ${count} needs at least ${
          count * minItemBytes
        } bytes but ${this.remaining} remain`,
      );
    }
    return count;
  }

  /** u32 count, then that many i32. */
  i32List(field: string): number[] {
    const count = this.count(field, 4);
    const values = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      values[i] = this.#view.getInt32(this.#at, true);
      this.#at += 4;
    }
    return values;
  }

  /** u16 byte length, then UTF-8. */
  str16(field: string): string {
    return this.#utf8(this.u16(`${field} length`), field);
  }

  /** u32 byte length, then UTF-8. */
  str32(field: string): string {
    return this.#utf8(this.u32(`${field} length`), field);
  }

  /** u32 byte length, then the bytes, copied so they do not pin the body. */
  bytes32(field: string): Uint8Array {
    return this.raw(this.u32(`${field} length`), field).slice();
  }

  /** The next `length` bytes, viewed in place. */
  raw(length: number, field: string): Uint8Array {
    this.#need(length, field);
    const bytes = this.#body.subarray(this.#at, this.#at + length);
    this.#at += length;
    return bytes;
  }

  /** Skips zero padding up to the next multiple of `alignment` from the start of the body. */
  align(alignment: number, field: string): void {
    const pad = this.raw(padding(this.#at, alignment), field);
    if (pad.some((byte) => byte !== 0)) this.fail(`${field} is not zero`);
  }

  /** Fails unless the whole body has been read. */
  end(): void {
    const left = this.remaining;
    if (left !== 0) this.fail(`${left} trailing byte${left === 1 ? "" : "s"} after the message`);
  }

  #need(length: number, field: string): void {
    if (length > this.remaining) {
      this.fail(`${field} needs ${length} bytes but ${this.remaining} remain`);
    }
  }

  #utf8(length: number, field: string): string {
    const bytes = this.raw(length, field);
    // Short ASCII (ids) decodes faster by hand than through TextDecoder; anything else,
    // including every byte above 0x7f, goes through the strict decoder.
    if (length <= 64) {
      let ascii = "";
      let i = 0;
      for (; i < length && bytes[i] < 0x80; i++) ascii += String.fromCharCode(bytes[i]);
      if (i === length) return ascii;
    }
    try {
      return decoder.decode(bytes);
    } catch {
      return this.fail(`${field} is not valid UTF-8`);
    }
  }
}
