import { CheckpointError } from "./checkpoint_error.ts";
import { SafetensorsFile } from "./safetensors_file.ts";
import type { TensorInfo } from "./safetensors_header.ts";
import {
  parseSafetensorsIndex,
  SAFETENSORS_INDEX_FILE,
  SAFETENSORS_SINGLE_FILE,
} from "./safetensors_index.ts";

/**
 * The tensors of a Hugging Face model directory: one `model.safetensors`, or shards listed
 * by `model.safetensors.index.json`. Shard files open on first use, so a reader over an
 * index answers {@linkcode CheckpointReader.filesFor} before any shard is downloaded.
 */
export class CheckpointReader {
  #dir: string;
  /** Tensor name to the file (relative to #dir) that holds it. */
  #weightMap: Map<string, string>;
  #opening = new Map<string, Promise<SafetensorsFile>>();
  #open = new Set<SafetensorsFile>();
  #closed = false;

  private constructor(dir: string, weightMap: Map<string, string>, single: SafetensorsFile | null) {
    this.#dir = dir;
    this.#weightMap = weightMap;
    if (single !== null) {
      this.#open.add(single);
      this.#opening.set(SAFETENSORS_SINGLE_FILE, Promise.resolve(single));
    }
  }

  /**
   * Opens the checkpoint in `modelDir`: the index if there is one (shards open lazily),
   * else the single file, whose header is validated now.
   */
  static async open(modelDir: string): Promise<CheckpointReader> {
    const indexPath = `${modelDir}/${SAFETENSORS_INDEX_FILE}`;
    let indexText: string | null = null;
    try {
      indexText = await Deno.readTextFile(indexPath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (indexText !== null) {
      let json: unknown;
      try {
        json = JSON.parse(indexText);
      } catch (error) {
        throw new CheckpointError(
          `Cannot read safetensors index ${indexPath}: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
      return new CheckpointReader(modelDir, parseSafetensorsIndex(json, indexPath), null);
    }
    const singlePath = `${modelDir}/${SAFETENSORS_SINGLE_FILE}`;
    let single: SafetensorsFile;
    try {
      single = await SafetensorsFile.open(singlePath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new CheckpointError(
        `Cannot open checkpoint ${modelDir}: found neither ${SAFETENSORS_SINGLE_FILE} nor ${SAFETENSORS_INDEX_FILE}`,
        { cause: error },
      );
    }
    const weightMap = new Map<string, string>();
    for (const name of single.tensors().keys()) weightMap.set(name, SAFETENSORS_SINGLE_FILE);
    return new CheckpointReader(modelDir, weightMap, single);
  }

  /** The model directory. */
  get dir(): string {
    return this.#dir;
  }

  /** Every tensor name the checkpoint lists. */
  names(): string[] {
    return [...this.#weightMap.keys()];
  }

  /** Whether the checkpoint lists tensor `name`. */
  has(name: string): boolean {
    return this.#weightMap.has(name);
  }

  /**
   * The files (relative to the model directory, sorted, each once) that hold `names`;
   * throws {@linkcode CheckpointError} naming the first tensor no file holds.
   */
  filesFor(names: Iterable<string>): string[] {
    const files = new Set<string>();
    for (const name of names) files.add(this.#fileOf(name));
    return [...files].sort();
  }

  /** The header entry of tensor `name`, opening its file if needed. */
  async info(name: string): Promise<TensorInfo> {
    const file = await this.#fileFor(name);
    return file.info(name);
  }

  /** Reads tensor `name`'s raw bytes. */
  async readRaw(name: string): Promise<Uint8Array> {
    const file = await this.#fileFor(name);
    return file.readRaw(name);
  }

  /** Reads tensor `name` as float32 (F32, F16 or BF16 on disk). */
  async readFloat32(name: string): Promise<Float32Array> {
    const file = await this.#fileFor(name);
    return file.readFloat32(name);
  }

  /** Closes every open file; files still opening close as soon as they open. */
  close(): void {
    this.#closed = true;
    for (const file of this.#open) file.close();
    this.#open.clear();
  }

  #fileOf(name: string): string {
    const file = this.#weightMap.get(name);
    if (file === undefined) {
      throw new CheckpointError(`Cannot read checkpoint ${this.#dir}: tensor ${name} is missing`);
    }
    return file;
  }

  async #fileFor(name: string): Promise<SafetensorsFile> {
    if (this.#closed) throw new TypeError(`Cannot read checkpoint ${this.#dir}: reader is closed`);
    const fileName = this.#fileOf(name);
    let opening = this.#opening.get(fileName);
    if (opening === undefined) {
      opening = this.#openShard(fileName);
      this.#opening.set(fileName, opening);
      // A failed open is not remembered: the file may yet be downloaded.
      opening.catch(() => this.#opening.delete(fileName));
    }
    let file: SafetensorsFile;
    try {
      file = await opening;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new CheckpointError(
        `Cannot read checkpoint ${this.#dir}: tensor ${name} is in ${fileName}, which is missing`,
        { cause: error },
      );
    }
    if (!file.has(name)) {
      throw new CheckpointError(
        `Cannot read checkpoint ${this.#dir}: tensor ${name} is mapped to ${fileName}, which does not hold it`,
      );
    }
    return file;
  }

  async #openShard(fileName: string): Promise<SafetensorsFile> {
    const file = await SafetensorsFile.open(`${this.#dir}/${fileName}`);
    if (this.#closed) {
      file.close();
      throw new TypeError(`Cannot read checkpoint ${this.#dir}: reader is closed`);
    }
    this.#open.add(file);
    return file;
  }
}
