/**
 * Stacks PyTorch Linear weights ([out, in] each, sharing `inDim`) along the output axis,
 * giving one [sum(out), in] matrix: the layout of a fused projection such as q|k|v.
 */
export function stackRows(parts: readonly Float32Array[], inDim: number): Float32Array {
  let total = 0;
  for (const part of parts) {
    if (part.length % inDim !== 0) {
      throw new RangeError(
        `Cannot stack weights: a part of ${part.length} values is not a multiple of ${inDim} columns`,
      );
    }
    total += part.length;
  }
  const stacked = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    stacked.set(part, offset);
    offset += part.length;
  }
  return stacked;
}

/** Transposes a row-major [rows, cols] matrix into [cols, rows] (PyTorch [out, in] to MatMul's [in, out]). */
export function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  if (matrix.length !== rows * cols) {
    throw new RangeError(
      `Cannot transpose: ${matrix.length} values do not form a ${rows}x${cols} matrix`,
    );
  }
  const out = new Float32Array(rows * cols);
  // Tiles keep both the reads and the writes within cache lines.
  const tile = 32;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const rEnd = Math.min(r0 + tile, rows);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const cEnd = Math.min(c0 + tile, cols);
      for (let r = r0; r < rEnd; r++) {
        const rowBase = r * cols;
        for (let c = c0; c < cEnd; c++) out[c * rows + r] = matrix[rowBase + c];
      }
    }
  }
  return out;
}

/** Views a typed array's elements as little-endian bytes without copying. */
export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}
