import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { type BodySink, BodySizer, BodyWriter } from "./_body_writer.ts";
import { DTYPE_CODES, isDType } from "./dtype.ts";
import { AUTH_PROOF_BYTES, HELLO_MAGIC, HELLO_NONCE_BYTES, TENSOR_ALIGNMENT } from "./limits.ts";
import type { Message, TensorData } from "./messages.ts";
import { tensorByteLength } from "./tensor.ts";
import { MESSAGE_TYPE_CODES } from "./type_codes.ts";

/**
 * Encodes a message as one whole frame: the u32 little-endian body length, then the body.
 * The frame is a single fresh buffer; tensor bytes are copied into it once.
 *
 * @example Encode a ping
 * ```ts
 * const frame = encodeMessage({ type: "ping", id: 1, sentAt: Date.now() });
 * await connection.write(frame);
 * ```
 *
 * @throws {TypeError} If a field has the wrong type or the message type is unknown.
 * @throws {RangeError} If a number, string, list or tensor does not fit its wire encoding.
 */
export function encodeMessage(message: Message): Uint8Array {
  const sizer = new BodySizer();
  writeMessage(sizer, message);
  const writer = new BodyWriter(sizer);
  writeMessage(writer, message);
  if (!writer.complete) {
    // A message mutated between the two passes would otherwise yield a corrupt frame.
    throw new RangeError(`Cannot encode ${message.type}: the message changed while encoding`);
  }
  return writer.frame;
}

/** Tensors at least this large are sent from the caller's buffer instead of being copied. */
export const ZERO_COPY_MIN_BYTES = 64 * 1024;

/**
 * Encodes a message as the parts of one frame, to be written in order. A tensor of at
 * least {@linkcode ZERO_COPY_MIN_BYTES} comes as two parts, the frame up to its data and
 * the caller's data itself, so large hidden states are never copied on the way out; every
 * other message is one part, identical to {@linkcode encodeMessage}. With `scratch`, the
 * frame is written into it when it fits (the result then aliases `scratch` and is valid until
 * the caller reuses it); otherwise into a fresh buffer.
 *
 * @throws {TypeError} If a field has the wrong type or the message type is unknown.
 * @throws {RangeError} If a number, string, list or tensor does not fit its wire encoding.
 */
export function encodeMessageParts(
  message: Message,
  scratch: Uint8Array | null = null,
): Uint8Array[] {
  const large = message.type === "tensor" &&
    message.tensor?.data?.byteLength >= ZERO_COPY_MIN_BYTES;
  const sizer = new BodySizer();
  writeMessage(sizer, message);
  const data = large ? message.tensor.data : null;
  const writer = new BodyWriter(sizer, data, scratch);
  writeMessage(writer, message);
  if (!writer.complete) {
    throw new RangeError(`Cannot encode ${message.type}: the message changed while encoding`);
  }
  return data === null ? [writer.frame] : [writer.frame, data];
}

function writeMessage(sink: BodySink, message: Message): void {
  const code = MESSAGE_TYPE_CODES[message.type];
  if (code === undefined) {
    throw new TypeError(`Cannot encode message: unknown type ${String(message.type)}`);
  }
  sink.u8(code, "type");
  sink.u8(0, "flags");
  sink.u16(0, "reserved");
  switch (message.type) {
    case "hello":
      sink.raw(HELLO_MAGIC, "hello.magic");
      sink.u16(message.version, "hello.version");
      sink.str16(message.nodeId, "hello.nodeId");
      writeCapabilities(sink, message.capabilities, "hello.capabilities");
      if (message.nonce?.byteLength !== HELLO_NONCE_BYTES) {
        throw new RangeError(
          `Cannot encode hello.nonce: ${message.nonce?.byteLength} bytes, expected ${HELLO_NONCE_BYTES}`,
        );
      }
      sink.bytes32(message.nonce, "hello.nonce");
      return;
    case "auth":
      if (message.proof?.byteLength !== 0 && message.proof?.byteLength !== AUTH_PROOF_BYTES) {
        throw new RangeError(
          `Cannot encode auth.proof: ${message.proof?.byteLength} bytes, expected 0 or ${AUTH_PROOF_BYTES}`,
        );
      }
      sink.bytes32(message.proof, "auth.proof");
      return;
    case "refuse":
      sink.str32(message.reason, "refuse.reason");
      return;
    case "ping":
    case "pong":
      sink.u32(message.id, `${message.type}.id`);
      sink.f64(message.sentAt, `${message.type}.sentAt`);
      return;
    case "topology_request":
      sink.u32(message.id, "topology_request.id");
      return;
    case "topology_reply":
      sink.u32(message.id, "topology_reply.id");
      sink.u32(message.nodes.length, "topology_reply.nodes count");
      for (const node of message.nodes) {
        sink.str16(node.nodeId, "topology_reply.nodes.nodeId");
        writeCapabilities(sink, node.capabilities, "topology_reply.nodes.capabilities");
        sink.u16(node.hops, "topology_reply.nodes.hops");
      }
      sink.u32(message.edges.length, "topology_reply.edges count");
      for (const edge of message.edges) {
        sink.str16(edge.from, "topology_reply.edges.from");
        sink.str16(edge.to, "topology_reply.edges.to");
      }
      return;
    case "prompt":
      sink.str16(message.requestId, "prompt.requestId");
      sink.str32(message.meta, "prompt.meta");
      sink.i32List(message.tokens, "prompt.tokens");
      return;
    case "tensor":
      sink.str16(message.requestId, "tensor.requestId");
      sink.u32(message.step, "tensor.step");
      sink.u16(message.shardIndex, "tensor.shardIndex");
      sink.str32(message.meta, "tensor.meta");
      writeTensor(sink, message.tensor);
      return;
    case "token":
      sink.str16(message.requestId, "token.requestId");
      sink.u32(message.step, "token.step");
      sink.i32List(message.tokens, "token.tokens");
      sink.str16(message.finishReason, "token.finishReason");
      return;
    case "status":
      sink.str32(message.json, "status.json");
      return;
    case "quiet":
      sink.u32(message.quietMs, "quiet.quietMs");
      sink.str16(message.reason, "quiet.reason");
      return;
    case "error":
      sink.str16(message.requestId, "error.requestId");
      sink.str32(message.message, "error.message");
      return;
    case "cancel":
      sink.str16(message.requestId, "cancel.requestId");
      sink.str32(message.reason, "cancel.reason");
      return;
    default: {
      const unknown: never = message;
      throw new TypeError(`Cannot encode message: unknown type ${String(unknown)}`);
    }
  }
}

function writeCapabilities(sink: BodySink, capabilities: DeviceCapabilities, field: string): void {
  sink.str16(capabilities.model, `${field}.model`);
  sink.str16(capabilities.chip, `${field}.chip`);
  sink.f64(capabilities.memory, `${field}.memory`, true);
  sink.f64(capabilities.flops.fp32, `${field}.flops.fp32`, true);
  sink.f64(capabilities.flops.fp16, `${field}.flops.fp16`, true);
  sink.f64(capabilities.flops.int8, `${field}.flops.int8`, true);
}

function writeTensor(sink: BodySink, tensor: TensorData): void {
  if (!isDType(tensor.dtype)) {
    throw new TypeError(`Cannot encode tensor: unknown dtype ${String(tensor.dtype)}`);
  }
  const expected = tensorByteLength(tensor.dtype, tensor.shape);
  if (tensor.data.byteLength !== expected) {
    throw new RangeError(
      `Cannot encode tensor: shape [${tensor.shape}] needs ${expected} bytes but data has ${tensor.data.byteLength}`,
    );
  }
  sink.u8(DTYPE_CODES[tensor.dtype], "tensor.dtype");
  sink.u8(tensor.shape.length, "tensor.ndim");
  for (const dim of tensor.shape) sink.u32(dim, "tensor.shape");
  sink.align(TENSOR_ALIGNMENT);
  sink.raw(tensor.data, "tensor.data");
}
