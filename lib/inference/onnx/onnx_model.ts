import { ProtoWriter } from "./protobuf_writer.ts";

/** ONNX element types this project writes, with their TensorProto.DataType codes. */
export const ONNX_DATA_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  float16: 10,
} as const;

/** An element type name accepted in value infos and initializers. */
export type OnnxDataType = keyof typeof ONNX_DATA_TYPES;

/** Bytes per element of each type. */
export const ONNX_ITEM_SIZES: Record<OnnxDataType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  int32: 4,
  int64: 8,
  float16: 2,
};

/** A dimension: a fixed size or a symbolic name such as "seq". */
export type OnnxDim = number | string;

/** A graph input or output: name, element type and shape. */
export interface OnnxValueInfo {
  name: string;
  type: OnnxDataType;
  shape: OnnxDim[];
}

/** A node attribute value; the kind decides how it is encoded. */
export type OnnxAttributeValue =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string }
  | { kind: "ints"; value: number[] };

/** One operator application. */
export interface OnnxNode {
  opType: string;
  /** "" for the default ONNX domain, "com.microsoft" for contrib ops. */
  domain: string;
  name: string;
  /** Input value names; "" marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttributeValue>;
}

/** Where an initializer's bytes live: inline, or in the external data file. */
export type OnnxTensorData =
  | { kind: "raw"; bytes: Uint8Array }
  | { kind: "external"; location: string; offset: number; length: number };

/** A constant tensor of the graph (a weight). */
export interface OnnxInitializer {
  name: string;
  type: OnnxDataType;
  dims: number[];
  data: OnnxTensorData;
}

/** A whole model: one graph plus the operator sets it imports. */
export interface OnnxModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  graphName: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
}

// Field numbers from onnx.proto.
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 };
const OPSET = { domain: 1, version: 2 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, ints: 8, type: 20 };
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 };
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 };
const TENSOR_LOCATION_EXTERNAL = 1;
const ENTRY = { key: 1, value: 2 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIMENSION = { dimValue: 1, dimParam: 2 };

/** Serializes a model to ONNX protobuf bytes (weights stay wherever their data says). */
export function encodeModel(model: OnnxModel): Uint8Array {
  const writer = new ProtoWriter();
  writer.int(MODEL.irVersion, model.irVersion);
  writer.string(MODEL.producerName, model.producerName);
  writer.message(MODEL.graph, (graph) => writeGraph(graph, model));
  for (const opset of model.opsets) {
    writer.message(MODEL.opsetImport, (w) => {
      w.string(OPSET.domain, opset.domain).int(OPSET.version, opset.version);
    });
  }
  return writer.finish();
}

function writeGraph(writer: ProtoWriter, model: OnnxModel): void {
  for (const node of model.nodes) writer.message(GRAPH.node, (w) => writeNode(w, node));
  writer.string(GRAPH.name, model.graphName);
  for (const initializer of model.initializers) {
    writer.message(GRAPH.initializer, (w) => writeInitializer(w, initializer));
  }
  for (const input of model.inputs) writer.message(GRAPH.input, (w) => writeValueInfo(w, input));
  for (const output of model.outputs) {
    writer.message(GRAPH.output, (w) => writeValueInfo(w, output));
  }
}

function writeNode(writer: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) writer.string(NODE.input, input);
  for (const output of node.outputs) writer.string(NODE.output, output);
  writer.string(NODE.name, node.name);
  writer.string(NODE.opType, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes)) {
    writer.message(NODE.attribute, (w) => writeAttribute(w, name, attribute));
  }
  if (node.domain !== "") writer.string(NODE.domain, node.domain);
}

function writeAttribute(writer: ProtoWriter, name: string, attribute: OnnxAttributeValue): void {
  writer.string(ATTRIBUTE.name, name);
  switch (attribute.kind) {
    case "int":
      writer.int(ATTRIBUTE.i, attribute.value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.int);
      return;
    case "float":
      writer.float(ATTRIBUTE.f, attribute.value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.float);
      return;
    case "string":
      writer.string(ATTRIBUTE.s, attribute.value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.string);
      return;
    case "ints":
      writer.packedInts(ATTRIBUTE.ints, attribute.value).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.ints);
      return;
  }
}

function writeInitializer(writer: ProtoWriter, initializer: OnnxInitializer): void {
  if (initializer.dims.length > 0) writer.packedInts(TENSOR.dims, initializer.dims);
  writer.int(TENSOR.dataType, ONNX_DATA_TYPES[initializer.type]);
  writer.string(TENSOR.name, initializer.name);
  const data = initializer.data;
  switch (data.kind) {
    case "raw":
      writer.bytes(TENSOR.rawData, data.bytes);
      return;
    case "external":
      writeEntry(writer, "location", data.location);
      writeEntry(writer, "offset", String(data.offset));
      writeEntry(writer, "length", String(data.length));
      writer.int(TENSOR.dataLocation, TENSOR_LOCATION_EXTERNAL);
      return;
  }
}

function writeEntry(writer: ProtoWriter, key: string, value: string): void {
  writer.message(TENSOR.externalData, (w) => w.string(ENTRY.key, key).string(ENTRY.value, value));
}

function writeValueInfo(writer: ProtoWriter, info: OnnxValueInfo): void {
  writer.string(VALUE_INFO.name, info.name);
  writer.message(VALUE_INFO.type, (type) => {
    type.message(TYPE.tensorType, (tensor) => {
      tensor.int(TENSOR_TYPE.elemType, ONNX_DATA_TYPES[info.type]);
      tensor.message(TENSOR_TYPE.shape, (shape) => {
        for (const dim of info.shape) {
          shape.message(SHAPE.dim, (d) => {
            if (typeof dim === "number") d.int(DIMENSION.dimValue, dim);
            else d.string(DIMENSION.dimParam, dim);
          });
        }
      });
    });
  });
}
