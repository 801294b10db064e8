/**
 * Converts float32 values to IEEE half-precision bits (round to nearest even), the form
 * ORT's float16 tensors and initializers take here (see ort_runtime.ts for why bits, not
 * a Float16Array, cross into ORT).
 */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  return new Uint16Array(Float16Array.from(values).buffer);
}

/** Reads IEEE half-precision bits as float32 values. */
export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  return Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
}
