const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH_DELIMITED = 2;

const encoder = new TextEncoder();

/**
 * A minimal protocol-buffers writer: just the wire types ONNX needs (varint, 32-bit float,
 * length-delimited). Nested messages are written by a callback into a child writer, so the
 * caller never computes lengths.
 */
export class ProtoWriter {
  #bytes = new Uint8Array(256);
  #length = 0;

  /** Number of bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** The bytes written so far (a copy-free view, valid until the next write). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** Writes an integer field (int32, int64, enum, bool) as a varint; negatives use 10 bytes. */
  int(field: number, value: number | bigint): this {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  /** Writes a 32-bit float field. */
  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    this.#reserve(4);
    new DataView(this.#bytes.buffer).setFloat32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  /** Writes a UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** Writes a bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#varint(value.length);
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** Writes a repeated integer field in packed form. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const value of values) inner.#varint(value);
    return this.bytes(field, inner.finish());
  }

  /** Writes a repeated float field in packed form. */
  packedFloats(field: number, values: readonly number[]): this {
    const data = new Float32Array(values);
    return this.bytes(field, new Uint8Array(data.buffer));
  }

  /** Writes a nested message whose fields `write` puts into a fresh writer. */
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  #tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1) {
      throw new RangeError(`Cannot write protobuf field: invalid field number ${field}`);
    }
    this.#varint(field * 8 + wireType);
  }

  #varint(value: number | bigint): void {
    this.#reserve(10);
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`Cannot write protobuf varint: ${value} is not a safe integer`);
      }
      if (value >= 0) {
        // Arithmetic, not bit operators, because values may exceed 32 bits.
        while (value >= 0x80) {
          this.#bytes[this.#length++] = (value % 0x80) | 0x80;
          value = Math.floor(value / 0x80);
        }
        this.#bytes[this.#length++] = value;
        return;
      }
      value = BigInt(value);
    }
    // Negative int64 values are sent as their 64-bit two's complement.
    let unsigned = BigInt.asUintN(64, value);
    while (unsigned >= 0x80n) {
      this.#bytes[this.#length++] = Number(unsigned & 0x7fn) | 0x80;
      unsigned >>= 7n;
    }
    this.#bytes[this.#length++] = Number(unsigned);
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}
