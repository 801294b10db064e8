/**
 * Widening of half-precision checkpoint data to float32. Both formats read little-endian
 * 16-bit words, as safetensors stores them.
 *
 * @module
 */

let float16Table: Float32Array | null = null;

/** Every float16 bit pattern decoded once: a lookup beats bit twiddling per element. */
function float16ToFloat32Table(): Float32Array {
  if (float16Table !== null) return float16Table;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    let magnitude: number;
    if (exponent === 0) magnitude = fraction * 2 ** -24;
    else if (exponent === 31) magnitude = fraction === 0 ? Infinity : NaN;
    else magnitude = (1 + fraction / 1024) * 2 ** (exponent - 15);
    table[bits] = sign * magnitude;
  }
  float16Table = table;
  return table;
}

function wordsOf(bytes: Uint8Array): Uint16Array {
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError(
      `Cannot convert 16-bit floats: byte length ${bytes.byteLength} is odd`,
    );
  }
  // A view needs 2-byte alignment; a misaligned slice is copied once instead.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
}

function checkRoom(words: number, out: Float32Array, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + words > out.length) {
    throw new RangeError(
      `Cannot convert 16-bit floats: ${words} values do not fit at offset ${offset} of ${out.length}`,
    );
  }
}

/** Decodes IEEE 754 half-precision values (little-endian bytes) into `out` from `offset`. */
export function decodeFloat16Into(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  const words = wordsOf(bytes);
  checkRoom(words.length, out, offset);
  const table = float16ToFloat32Table();
  for (let i = 0; i < words.length; i++) out[offset + i] = table[words[i]];
}

/** Decodes bfloat16 values (little-endian bytes) into `out` from `offset`. */
export function decodeBfloat16Into(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  const words = wordsOf(bytes);
  checkRoom(words.length, out, offset);
  // bfloat16 is the top half of a float32, so widening is a shift.
  const outBits = new Int32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < words.length; i++) outBits[offset + i] = words[i] << 16;
}

/** Decodes IEEE 754 half-precision values (little-endian bytes) to float32, exactly. */
export function float16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength >> 1);
  decodeFloat16Into(bytes, out);
  return out;
}

/** Decodes bfloat16 values (little-endian bytes) to float32, exactly. */
export function bfloat16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength >> 1);
  decodeBfloat16Into(bytes, out);
  return out;
}
