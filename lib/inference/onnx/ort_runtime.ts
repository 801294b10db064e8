import * as ort from "onnxruntime-node";

/**
 * onnxruntime-node, imported in the one place that repairs float16 tensors under Deno.
 *
 * onnxruntime-common decides once, lazily on the first Tensor it builds, whether a global
 * `Float16Array` exists; if so it stores float16 data in one, and the native binding of
 * onnxruntime-node 1.30 reads such arrays as empty ("not enough space: expected 8, got 0").
 * Building the first Tensor here while the global is hidden makes it fall back to
 * `Uint16Array` (raw IEEE half bits) for good. Every module must import ORT from here.
 */
export { ort };

function pinFloat16ToUint16(): void {
  const globals = globalThis as { Float16Array?: unknown };
  const saved = globals.Float16Array;
  try {
    delete globals.Float16Array;
    new ort.Tensor("float32", new Float32Array(1), [1]);
  } finally {
    if (saved !== undefined) globals.Float16Array = saved;
  }
}

pinFloat16ToUint16();
