import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { BodyReader } from "./_body_reader.ts";
import { dtypeFromCode, dtypeItemSize } from "./dtype.ts";
import {
  AUTH_PROOF_BYTES,
  BODY_HEADER_BYTES,
  HELLO_MAGIC,
  HELLO_NONCE_BYTES,
  MAX_TENSOR_NDIM,
  TENSOR_ALIGNMENT,
} from "./limits.ts";
import type { Message, TensorData, TopologyEdge, TopologyNodeInfo } from "./messages.ts";
import { messageTypeFromCode } from "./type_codes.ts";

// Smallest encodings, used to bound list counts before looping.
const CAPABILITIES_MIN_BYTES = 2 + 2 + 4 * 8;
const NODE_INFO_MIN_BYTES = 2 + CAPABILITIES_MIN_BYTES + 2;
const EDGE_MIN_BYTES = 2 + 2;

/**
 * Decodes one frame body (without its length prefix) into a message. Tensor data is a view
 * into the body, 8-aligned in its buffer; a body that does not start at an 8-aligned offset
 * of its buffer is copied first so that this holds.
 *
 * @throws {ProtocolError} If the body is not exactly one valid message.
 */
export function decodeMessageBody(body: Uint8Array): Message {
  if (body.byteOffset % TENSOR_ALIGNMENT !== 0) body = body.slice();
  // The annotation lets TypeScript narrow after calls to `fail`, which never returns.
  const reader: BodyReader = new BodyReader(body);
  if (reader.remaining < BODY_HEADER_BYTES) {
    reader.fail(
      `body of ${reader.remaining} bytes is shorter than the ${BODY_HEADER_BYTES}-byte header`,
    );
  }
  const code = reader.u8("type");
  const flags = reader.u8("flags");
  const reserved = reader.u16("reserved");
  const type = messageTypeFromCode(code);
  if (type === undefined) reader.fail(`unknown message type ${code}`);
  if (flags !== 0) reader.fail(`flags ${flags} are not 0`);
  if (reserved !== 0) reader.fail(`reserved field ${reserved} is not 0`);
  reader.context = type;
  const message = readFields(reader, type);
  reader.end();
  return message;
}

function readFields(reader: BodyReader, type: Message["type"]): Message {
  switch (type) {
    case "hello": {
      const magic = reader.raw(HELLO_MAGIC.byteLength, "magic");
      if (!magic.every((byte, i) => byte === HELLO_MAGIC[i])) {
        reader.fail(`magic ${[...magic]} is not "EXON"`);
      }
      const version = reader.u16("version");
      const nodeId = reader.str16("nodeId");
      const capabilities = readCapabilities(reader, "capabilities");
      const nonce = reader.bytes32("nonce");
      if (nonce.byteLength !== HELLO_NONCE_BYTES) {
        reader.fail(`nonce of ${nonce.byteLength} bytes, expected ${HELLO_NONCE_BYTES}`);
      }
      return { type, version, nodeId, capabilities, nonce };
    }
    case "auth": {
      const proof = reader.bytes32("proof");
      if (proof.byteLength !== 0 && proof.byteLength !== AUTH_PROOF_BYTES) {
        reader.fail(`proof of ${proof.byteLength} bytes, expected 0 or ${AUTH_PROOF_BYTES}`);
      }
      return { type, proof };
    }
    case "refuse":
      return { type, reason: reader.str32("reason") };
    case "ping":
    case "pong":
      return { type, id: reader.u32("id"), sentAt: reader.f64("sentAt") };
    case "topology_request":
      return { type, id: reader.u32("id") };
    case "topology_reply": {
      const id = reader.u32("id");
      const nodes: TopologyNodeInfo[] = [];
      for (let n = reader.count("nodes", NODE_INFO_MIN_BYTES); n > 0; n--) {
        nodes.push({
          nodeId: reader.str16("nodes.nodeId"),
          capabilities: readCapabilities(reader, "nodes.capabilities"),
          hops: reader.u16("nodes.hops"),
        });
      }
      const edges: TopologyEdge[] = [];
      for (let n = reader.count("edges", EDGE_MIN_BYTES); n > 0; n--) {
        edges.push({ from: reader.str16("edges.from"), to: reader.str16("edges.to") });
      }
      return { type, id, nodes, edges };
    }
    case "prompt":
      return {
        type,
        requestId: reader.str16("requestId"),
        meta: reader.str32("meta"),
        tokens: reader.i32List("tokens"),
      };
    case "tensor":
      return {
        type,
        requestId: reader.str16("requestId"),
        step: reader.u32("step"),
        shardIndex: reader.u16("shardIndex"),
        meta: reader.str32("meta"),
        tensor: readTensor(reader),
      };
    case "token":
      return {
        type,
        requestId: reader.str16("requestId"),
        step: reader.u32("step"),
        tokens: reader.i32List("tokens"),
        finishReason: reader.str16("finishReason"),
      };
    case "status":
      return { type, json: reader.str32("json") };
    case "error":
      return { type, requestId: reader.str16("requestId"), message: reader.str32("message") };
    case "cancel":
      return { type, requestId: reader.str16("requestId"), reason: reader.str32("reason") };
    case "quiet":
      return { type, quietMs: reader.u32("quietMs"), reason: reader.str16("reason") };
  }
}

function readCapabilities(reader: BodyReader, field: string): DeviceCapabilities {
  return {
    model: reader.str16(`${field}.model`),
    chip: reader.str16(`${field}.chip`),
    memory: reader.f64(`${field}.memory`, true),
    flops: {
      fp32: reader.f64(`${field}.flops.fp32`, true),
      fp16: reader.f64(`${field}.flops.fp16`, true),
      int8: reader.f64(`${field}.flops.int8`, true),
    },
  };
}

function readTensor(reader: BodyReader): TensorData {
  const code = reader.u8("dtype");
  const dtype = dtypeFromCode(code);
  if (dtype === undefined) reader.fail(`unknown dtype code ${code}`);
  const ndim = reader.u8("ndim");
  if (ndim > MAX_TENSOR_NDIM) {
    reader.fail(`ndim ${ndim} exceeds the limit of ${MAX_TENSOR_NDIM}`);
  }
  const shape: number[] = [];
  let byteLength = dtypeItemSize(dtype);
  for (let i = 0; i < ndim; i++) {
    const dim = reader.u32("shape");
    shape.push(dim);
    byteLength *= dim;
  }
  // Checked once at the end: a product that left the safe range can only grow from there
  // (or become exactly 0 on a zero dimension, which is a true 0).
  if (!Number.isSafeInteger(byteLength)) {
    reader.fail(`shape [${shape}] of ${dtype} is too large to address`);
  }
  reader.align(TENSOR_ALIGNMENT, "padding");
  if (byteLength !== reader.remaining) {
    reader.fail(`shape [${shape}] needs ${byteLength} bytes but ${reader.remaining} remain`);
  }
  return { dtype, shape, data: reader.raw(byteLength, "data") };
}
