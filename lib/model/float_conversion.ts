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

/** Decodes IEEE 754 half-precision values (little-endian bytes) to float32, exactly. */
export function float16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const words = wordsOf(bytes);
  const table = float16ToFloat32Table();
  const out = new Float32Array(words.length);
  for (let i = 0; i < words.length; i++) out[i] = table[words[i]];
  return out;
}

/** Decodes bfloat16 values (little-endian bytes) to float32, exactly: bfloat16 is float32's top half. */
export function bfloat16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const words = wordsOf(bytes);
  const out = new Float32Array(words.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < words.length; i++) outBits[i] = words[i] << 16;
  return out;
}
