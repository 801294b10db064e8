/**
 * Elements per quantization block of a projection (MatMulNBits `block_size`). 128 rather
 * than 32: ORT's int8-compute MatMulNBits ran a decode step's projections 26-27% faster
 * (smollm2-135m-like 6.4 -> 4.7 ms, llama-3.2-1b 43.7 -> 31.8 ms, one token, 2 threads),
 * and float32 scales shrink from an eighth to a thirty-second of the packed bytes.
 */
export const Q4_BLOCK_SIZE = 128;

/**
 * Elements per block of a q4 token embedding table (GatherBlockQuantized): a gather reads
 * one row per token, so speed does not depend on it, and its block must divide the hidden
 * size (smollm2's 576 is not a multiple of 128).
 */
export const Q4_EMBEDDING_BLOCK_SIZE = 32;

/** A [n, k] matrix quantized to 4 bits per value in the layout MatMulNBits reads. */
export interface Q4Matrix {
  n: number;
  k: number;
  /** Elements per block along k. */
  blockSize: number;
  blocksPerRow: number;
  /** [n, blocksPerRow, blockSize / 2]: two values a byte, the even index in the low nibble. */
  packed: Uint8Array;
  /** [n * blocksPerRow] */
  scales: Float32Array;
  /** [n * ceil(blocksPerRow / 2)]: a row's block zero points two a byte, low nibble first. */
  zeroPoints: Uint8Array;
}

/**
 * Quantizes a row-major [n, k] matrix (PyTorch's [out, in], which is MatMulNBits' B layout)
 * to asymmetric 4-bit blocks of `blockSize` along k: value ≈ (q - zeroPoint) × scale. Each
 * block's range includes 0 so that zero stays exact; a short last block is padded with zeros.
 */
export function quantizeQ4(
  matrix: Float32Array,
  n: number,
  k: number,
  blockSize = Q4_BLOCK_SIZE,
): Q4Matrix {
  if (!Number.isInteger(Math.log2(blockSize)) || blockSize < 16) {
    throw new RangeError(`Cannot quantize: block size ${blockSize} is not a power of 2 >= 16`);
  }
  if (matrix.length !== n * k) {
    throw new RangeError(`Cannot quantize: ${matrix.length} values do not form a ${n}x${k} matrix`);
  }
  const block = blockSize;
  const blocksPerRow = Math.ceil(k / block);
  const zpBytesPerRow = Math.ceil(blocksPerRow / 2);
  const packed = new Uint8Array(n * blocksPerRow * (block / 2));
  const scales = new Float32Array(n * blocksPerRow);
  const zeroPoints = new Uint8Array(n * zpBytesPerRow);
  for (let row = 0; row < n; row++) {
    const rowBase = row * k;
    for (let b = 0; b < blocksPerRow; b++) {
      const start = b * block;
      const end = Math.min(start + block, k);
      let min = 0;
      let max = 0;
      for (let i = start; i < end; i++) {
        const v = matrix[rowBase + i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const scale = max > min ? (max - min) / 15 : 1;
      const zeroPoint = Math.min(15, Math.max(0, Math.round(-min / scale)));
      const blockIndex = row * blocksPerRow + b;
      scales[blockIndex] = scale;
      const zpByte = row * zpBytesPerRow + (b >> 1);
      zeroPoints[zpByte] |= (b & 1) === 0 ? zeroPoint : zeroPoint << 4;
      const out = blockIndex * (block / 2);
      for (let i = 0; i < block; i++) {
        const v = start + i < end ? matrix[rowBase + start + i] : 0;
        const q = Math.min(15, Math.max(0, Math.round(v / scale) + zeroPoint));
        packed[out + (i >> 1)] |= (i & 1) === 0 ? q : q << 4;
      }
    }
  }
  return { n, k, blockSize, blocksPerRow, packed, scales, zeroPoints };
}

/** Expands a quantized matrix back to float32 [n, k], as MatMulNBits sees it. */
export function dequantizeQ4(q: Q4Matrix): Float32Array {
  const block = q.blockSize;
  const zpBytesPerRow = Math.ceil(q.blocksPerRow / 2);
  const out = new Float32Array(q.n * q.k);
  for (let row = 0; row < q.n; row++) {
    for (let i = 0; i < q.k; i++) {
      const b = Math.floor(i / block);
      const blockIndex = row * q.blocksPerRow + b;
      const zpByte = q.zeroPoints[row * zpBytesPerRow + (b >> 1)];
      const zeroPoint = (b & 1) === 0 ? zpByte & 15 : zpByte >> 4;
      const within = i - b * block;
      const byte = q.packed[blockIndex * (block / 2) + (within >> 1)];
      const value = (within & 1) === 0 ? byte & 15 : byte >> 4;
      out[row * q.k + i] = (value - zeroPoint) * q.scales[blockIndex];
    }
  }
  return out;
}
