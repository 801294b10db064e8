import type { DeviceCapabilities } from "../topology/device_capabilities.ts";

/** The wire protocol version this build speaks; peers with another version are refused. */
export const PROTOCOL_VERSION = 1;

/** Element types a tensor frame can carry. */
export type DType = "float32" | "float16" | "bfloat16" | "int32" | "int64" | "uint8" | "int8";

/** A tensor on the wire: element type, shape and raw little-endian bytes. */
export interface TensorData {
  dtype: DType;
  /** Dimensions, outermost first, e.g. [batch, seq, hidden]. */
  shape: number[];
  /**
   * Raw bytes, exactly product(shape) × itemsize. A decoded tensor's bytes start at an
   * 8-byte-aligned offset of their own buffer, so they can be viewed as a typed array.
   */
  data: Uint8Array;
}

/** One node as another node sees it in the cluster. */
export interface TopologyNodeInfo {
  nodeId: string;
  capabilities: DeviceCapabilities;
  /** Distance from the reporting node: 0 itself, 1 a direct peer, and so on. */
  hops: number;
}

/** A direct connection between two nodes, as reported by one of them. */
export interface TopologyEdge {
  from: string;
  to: string;
}

/** First message on a connection, sent by both sides. */
export interface HelloMessage {
  type: "hello";
  version: number;
  nodeId: string;
  capabilities: DeviceCapabilities;
  /** 32 random bytes the other side must sign to prove the cluster secret. */
  nonce: Uint8Array;
}

/** Second message: proof of the cluster secret over the peer's nonce (empty without a secret). */
export interface AuthMessage {
  type: "auth";
  proof: Uint8Array;
}

/** Sent before closing a connection at the handshake, with the reason. */
export interface RefuseMessage {
  type: "refuse";
  reason: string;
}

/** Liveness probe; answered by a pong with the same id. */
export interface PingMessage {
  type: "ping";
  id: number;
  /** Sender's clock in ms, echoed back to measure round trips. */
  sentAt: number;
}

/** Answer to a ping. */
export interface PongMessage {
  type: "pong";
  id: number;
  sentAt: number;
}

/** Asks a peer for its view of the cluster. */
export interface TopologyRequestMessage {
  type: "topology_request";
  id: number;
}

/** A peer's view of the cluster, answering the request with the same id. */
export interface TopologyReplyMessage {
  type: "topology_reply";
  id: number;
  nodes: TopologyNodeInfo[];
  edges: TopologyEdge[];
}

/** Starts a request on the node that holds the first layers. */
export interface PromptMessage {
  type: "prompt";
  requestId: string;
  /** Request context (model, plan, sampling parameters) as JSON, defined by orchestration. */
  meta: string;
  tokens: number[];
}

/** A hidden state (or token ids) for shard `shardIndex` of the request's plan. */
export interface TensorMessage {
  type: "tensor";
  requestId: string;
  step: number;
  shardIndex: number;
  /** Request context as JSON, defined by orchestration; may be empty after the first step. */
  meta: string;
  tensor: TensorData;
}

/** Sampled tokens of a request, sent to the origin node and back to the first shard. */
export interface TokenMessage {
  type: "token";
  requestId: string;
  step: number;
  tokens: number[];
  /** Empty while generating, otherwise why generation ended ("stop", "length"). */
  finishReason: string;
}

/** An opaque status event (download progress, shard loading), JSON text. */
export interface StatusMessage {
  type: "status";
  json: string;
}

/** A request failed on the sending node. */
export interface ErrorMessage {
  type: "error";
  requestId: string;
  message: string;
}

/** Ends a request on every node, freeing its state. */
export interface CancelMessage {
  type: "cancel";
  requestId: string;
  reason: string;
}

/**
 * The sender may fall silent for up to `quietMs` (its event loop blocked, loading a shard):
 * the receiver does not drop it for silence meanwhile. `quietMs` 0 says it is back.
 */
export interface QuietMessage {
  type: "quiet";
  quietMs: number;
  /** Why, for the receiver's log. */
  reason: string;
}

/** Every message of the protocol, discriminated by `type`. */
export type Message =
  | HelloMessage
  | AuthMessage
  | RefuseMessage
  | PingMessage
  | PongMessage
  | TopologyRequestMessage
  | TopologyReplyMessage
  | PromptMessage
  | TensorMessage
  | TokenMessage
  | StatusMessage
  | ErrorMessage
  | CancelMessage
  | QuietMessage;

/** The `type` tag of a message. */
export type MessageType = Message["type"];
