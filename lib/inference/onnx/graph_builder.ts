import {
  encodeModel,
  type OnnxAttributeValue,
  type OnnxDataType,
  type OnnxDim,
  type OnnxInitializer,
  type OnnxModel,
  type OnnxNode,
  type OnnxValueInfo,
} from "./onnx_model.ts";
import { basename, dirname } from "node:path";

/** Opset of the default ONNX domain the builder imports. */
export const ONNX_OPSET = 21;
/** Opset of the com.microsoft contrib domain. */
export const MS_OPSET = 1;
/** The com.microsoft domain name, for contrib ops. */
export const MS_DOMAIN = "com.microsoft";

// ORT memory-maps large external tensors only at page-aligned offsets.
const PAGE_ALIGNMENT = 4096;
const SMALL_ALIGNMENT = 64;
const PAGE_ALIGN_THRESHOLD = 1 << 16;
// Tensors this small stay inline; they are shapes, scalars and norms.
const INLINE_LIMIT = 1024;

/** Options of one graph node. */
export interface NodeOptions {
  /** Output names, or how many fresh names to make (default 1). */
  outputs?: string[] | number;
  attributes?: Record<string, OnnxAttributeValue>;
  domain?: string;
}

/**
 * Builds one ONNX graph whose weights stream to an external data file as they are added,
 * so no more than one tensor is ever held in memory. `writeModel` finishes both files; the
 * model must then be loaded from its path so ORT can find the data file beside it.
 */
export class GraphBuilder {
  #dataPath: string;
  #dataFile: Deno.FsFile | null = null;
  #dataLength = 0;
  #closed = false;
  #inputs: OnnxValueInfo[] = [];
  #outputs: OnnxValueInfo[] = [];
  #nodes: OnnxNode[] = [];
  #initializers: OnnxInitializer[] = [];
  #names = new Set<string>();
  /** Names made by `fresh` and not yet given to a value. */
  #reserved = new Set<string>();
  #counter = 0;

  /** Creates a builder whose weights go to `dataPath` (truncated on the first weight). */
  constructor(dataPath: string) {
    this.#dataPath = dataPath;
  }

  /** Bytes written to the external data file so far. */
  get dataLength(): number {
    return this.#dataLength;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: OnnxDataType, shape: OnnxDim[]): string {
    this.#claim(name);
    this.#inputs.push({ name, type, shape });
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, type: OnnxDataType, shape: OnnxDim[]): void {
    this.#outputs.push({ name, type, shape });
  }

  /** Returns a fresh value name starting with `prefix`. */
  fresh(prefix: string): string {
    let name = prefix;
    while (this.#names.has(name)) name = `${prefix}_${++this.#counter}`;
    this.#names.add(name);
    this.#reserved.add(name);
    return name;
  }

  /** Adds a node and returns its output names. */
  node(opType: string, inputs: string[], options: NodeOptions = {}): string[] {
    const requested = options.outputs ?? 1;
    const outputs = typeof requested === "number"
      ? Array.from({ length: requested }, (_, i) => this.#take(this.fresh(`${opType}_out${i}`)))
      : requested.map((name) => name === "" ? name : this.#take(name));
    this.#nodes.push({
      opType,
      domain: options.domain ?? "",
      name: this.#take(this.fresh(`${opType}_node`)),
      inputs,
      outputs,
      attributes: options.attributes ?? {},
    });
    return outputs;
  }

  /** Adds a node with a single output and returns that output's name. */
  node1(opType: string, inputs: string[], options: NodeOptions = {}): string {
    return this.node(opType, inputs, options)[0];
  }

  /**
   * Adds a constant tensor; `bytes` are little-endian elements in row-major order. Large
   * tensors are appended to the data file at once, so the caller may drop `bytes` afterwards.
   */
  initializer(name: string, type: OnnxDataType, dims: number[], bytes: Uint8Array): string {
    this.#claim(name);
    if (bytes.length <= INLINE_LIMIT) {
      this.#initializers.push({ name, type, dims, data: { kind: "raw", bytes: bytes.slice() } });
      return name;
    }
    const offset = this.#appendData(bytes);
    this.#initializers.push({
      name,
      type,
      dims,
      data: { kind: "external", location: basename(this.#dataPath), offset, length: bytes.length },
    });
    return name;
  }

  /** Adds an int64 constant, for shapes and axes. */
  int64(name: string, values: number[]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    return this.initializer(name, "int64", [values.length], new Uint8Array(data.buffer));
  }

  /** Closes the data file and writes the model file, which must sit beside the data file. */
  writeModel(modelPath: string, producerName: string): void {
    if (dirname(modelPath) !== dirname(this.#dataPath)) {
      throw new TypeError(
        `Cannot write model: ${modelPath} is not in the directory of its data file ${this.#dataPath}`,
      );
    }
    this.close();
    Deno.writeFileSync(modelPath, encodeModel(this.toModel(producerName)));
  }

  /** Closes the data file without writing the model (also safe after `writeModel`). */
  close(): void {
    this.#dataFile?.close();
    this.#dataFile = null;
    this.#closed = true;
  }

  /** The model as built so far. */
  toModel(producerName: string): OnnxModel {
    return {
      irVersion: 10,
      opsets: [{ domain: "", version: ONNX_OPSET }, { domain: MS_DOMAIN, version: MS_OPSET }],
      producerName,
      graphName: "main",
      inputs: this.#inputs,
      outputs: this.#outputs,
      nodes: this.#nodes,
      initializers: this.#initializers,
    };
  }

  #take(name: string): string {
    if (!this.#reserved.delete(name)) this.#claim(name);
    return name;
  }

  #claim(name: string): void {
    if (this.#names.has(name)) {
      throw new TypeError(`Cannot add to graph: the name ${name} is already used`);
    }
    this.#names.add(name);
  }

  #appendData(bytes: Uint8Array): number {
    if (this.#closed) throw new TypeError("Cannot add weight: the data file is already closed");
    this.#dataFile ??= Deno.openSync(this.#dataPath, { write: true, create: true, truncate: true });
    const alignment = bytes.length >= PAGE_ALIGN_THRESHOLD ? PAGE_ALIGNMENT : SMALL_ALIGNMENT;
    const padding = (alignment - (this.#dataLength % alignment)) % alignment;
    if (padding > 0) writeAll(this.#dataFile, new Uint8Array(padding));
    const offset = this.#dataLength + padding;
    writeAll(this.#dataFile, bytes);
    this.#dataLength = offset + bytes.length;
    return offset;
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}
