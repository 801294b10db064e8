import { CheckpointError } from "./checkpoint_error.ts";
import { decodeBfloat16Into, decodeFloat16Into } from "./float_conversion.ts";
import {
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  SAFETENSORS_PREFIX_BYTES,
  type TensorInfo,
} from "./safetensors_header.ts";

/**
 * An open safetensors file. Opening reads and validates only the header; each read fetches
 * exactly one tensor's bytes, so a shard never pulls a whole multi-gigabyte file into memory.
 *
 * ```ts
 * const file = await SafetensorsFile.open("model.safetensors");
 * try {
 *   const norm = await file.readFloat32("model.norm.weight"); // [hidden]
 * } finally {
 *   file.close();
 * }
 * ```
 */
export class SafetensorsFile {
  #path: string;
  #file: Deno.FsFile;
  #tensors: Map<string, TensorInfo>;
  #metadata: Record<string, unknown> | null;
  #dataStart: number;
  /** Reads share one seek position, so they run one after another. */
  #pending: Promise<unknown> = Promise.resolve();
  #inFlight = 0;
  #closed = false;

  private constructor(
    path: string,
    file: Deno.FsFile,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, unknown> | null,
    dataStart: number,
  ) {
    this.#path = path;
    this.#file = file;
    this.#tensors = tensors;
    this.#metadata = metadata;
    this.#dataStart = dataStart;
  }

  /** Opens `path` and validates its header; throws {@linkcode CheckpointError} if it is corrupt. */
  static async open(path: string): Promise<SafetensorsFile> {
    const file = await Deno.open(path, { read: true });
    try {
      const fileSize = (await file.stat()).size;
      const prefix = await readExactly(file, 0, Math.min(SAFETENSORS_PREFIX_BYTES, fileSize));
      const headerLength = readSafetensorsHeaderLength(prefix, fileSize, path);
      const headerBytes = await readExactly(file, SAFETENSORS_PREFIX_BYTES, headerLength);
      const dataStart = SAFETENSORS_PREFIX_BYTES + headerLength;
      const header = parseSafetensorsHeader(headerBytes, fileSize - dataStart, path);
      return new SafetensorsFile(path, file, header.tensors, header.metadata, dataStart);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** The path the file was opened from. */
  get path(): string {
    return this.#path;
  }

  /** The header's `__metadata__` object, or null. */
  get metadata(): Record<string, unknown> | null {
    return this.#metadata;
  }

  /** Every tensor in the file, by name. */
  tensors(): Map<string, TensorInfo> {
    return new Map(this.#tensors);
  }

  /** Whether the file holds tensor `name`. */
  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  /** The header entry of tensor `name`; throws {@linkcode CheckpointError} if absent. */
  info(name: string): TensorInfo {
    const info = this.#tensors.get(name);
    if (info === undefined) {
      throw new CheckpointError(
        `Cannot read safetensors file ${this.#path}: tensor ${name} is not in the file`,
      );
    }
    return info;
  }

  /** Reads tensor `name`'s raw little-endian bytes into a buffer of their own. */
  async readRaw(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    const out = new Uint8Array(info.end - info.begin);
    await this.#read(info, async (file) => await fill(file, out, 0, out.length));
    return out;
  }

  /**
   * Reads tensor `name` as float32, widening F16 and BF16 chunk by chunk so that no second
   * full-size buffer is needed; other dtypes are refused.
   */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    const { dtype } = info;
    const size = info.end - info.begin;
    if (dtype === "F32") {
      const out = new Float32Array(size / 4);
      // Every platform onnxruntime ships for is little-endian, like the file.
      const bytes = new Uint8Array(out.buffer);
      await this.#read(info, async (file) => await fill(file, bytes, 0, size));
      return out;
    }
    if (dtype !== "F16" && dtype !== "BF16") {
      throw new CheckpointError(
        `Cannot read safetensors file ${this.#path}: tensor ${name} has dtype ${dtype}, which does not convert to float32`,
      );
    }
    const decode = dtype === "F16" ? decodeFloat16Into : decodeBfloat16Into;
    const out = new Float32Array(size / 2);
    await this.#read(info, async (file) => {
      const chunk = new Uint8Array(Math.min(CHUNK_BYTES, size));
      for (let done = 0; done < size; done += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - done));
        await fill(file, part, done, size);
        decode(part, out, done / 2);
      }
    });
    return out;
  }

  /** Runs `work` with the file positioned at the tensor, after every earlier read. */
  async #read(info: TensorInfo, work: (file: Deno.FsFile) => Promise<void>): Promise<void> {
    if (this.#closed) {
      throw new TypeError(`Cannot read safetensors file ${this.#path}: file is closed`);
    }
    this.#inFlight++;
    const read = this.#pending.then(async () => {
      try {
        await this.#file.seek(this.#dataStart + info.begin, Deno.SeekMode.Start);
        await work(this.#file);
      } catch (error) {
        if (!(error instanceof UnexpectedEndError)) throw error;
        throw new CheckpointError(
          `Cannot read safetensors file ${this.#path}: tensor ${info.name} is cut short: ${error.message}`,
          { cause: error },
        );
      } finally {
        this.#inFlight--;
        if (this.#closed && this.#inFlight === 0) this.#file.close();
      }
    });
    this.#pending = read.catch(() => {});
    await read;
  }

  /** Closes the file; reads already started still finish, then the handle closes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inFlight === 0) this.#file.close();
  }
}

class UnexpectedEndError extends Error {}

/** Half-precision tensors are widened through a buffer of this size. */
const CHUNK_BYTES = 1 << 22;

/**
 * Fills `target` from the file's current position; `before` and `total` (bytes of the
 * whole read) only make an early end of file say where it happened.
 */
async function fill(
  file: Deno.FsFile,
  target: Uint8Array,
  before: number,
  total: number,
): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    const count = await file.read(target.subarray(filled));
    if (count === null) {
      throw new UnexpectedEndError(`file ended after ${before + filled} of ${total} bytes`);
    }
    filled += count;
  }
}

async function readExactly(file: Deno.FsFile, position: number, size: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(size);
  await file.seek(position, Deno.SeekMode.Start);
  await fill(file, buffer, 0, size);
  return buffer;
}
