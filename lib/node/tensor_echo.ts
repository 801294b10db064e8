import type { TensorMessage } from "../protocol/messages.ts";
import { tensorFromTypedArray } from "../protocol/mod.ts";
import type { PeerConnection } from "../transport/mod.ts";

/** Round trip of a test tensor through a peer, as the diagnostics route reports it. */
export interface EchoResult {
  peer: string;
  shape: number[];
  bytes: number;
  roundTripMs: number;
}

/** Request ids with this prefix are echo probes, answered by the transport layer of a node. */
export const ECHO_PREFIX = "echo:";

const REQUEST_STEP = 0;
const REPLY_STEP = 1;
const TIMEOUT_MS = 30_000;

interface PendingEcho {
  sent: Uint8Array;
  startedAt: number;
  resolve: (result: EchoResult) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Sends a tensor to a peer and back, checking every byte: a diagnostic that shows a link
 * carries tensors both ways (e.g. through an SSH tunnel) and how long a lap takes.
 */
export class TensorEcho {
  #peer: (id: string) => PeerConnection | undefined;
  #pending = new Map<string, PendingEcho>();

  /** Creates the service; `peer` looks up the live connection to a node. */
  constructor(peer: (id: string) => PeerConnection | undefined) {
    this.#peer = peer;
  }

  /** Sends a random float32 tensor of `shape` to `peerId` and resolves when it is back. */
  roundTrip(peerId: string, shape: number[]): Promise<EchoResult> {
    const peer = this.#peer(peerId);
    if (!peer) return Promise.reject(new Error(`Cannot echo: node ${peerId} is not connected`));
    const elements = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(elements);
    for (let i = 0; i < elements; i++) values[i] = Math.random();
    const tensor = tensorFromTypedArray("float32", shape, values);
    const requestId = ECHO_PREFIX + crypto.randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new Error(`Cannot echo: no answer from ${peerId} within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      this.#pending.set(requestId, {
        sent: tensor.data,
        startedAt: performance.now(),
        resolve,
        reject,
        timer,
      });
      peer.send({
        type: "tensor",
        requestId,
        step: REQUEST_STEP,
        shardIndex: 0,
        meta: "",
        tensor,
      }).catch((error) => this.#fail(requestId, error));
    });
  }

  /** Answers or completes an echo probe; returns false for any other tensor. */
  handle(peer: PeerConnection, message: TensorMessage): boolean {
    if (!message.requestId.startsWith(ECHO_PREFIX)) return false;
    if (message.step === REQUEST_STEP) {
      peer.send({ ...message, step: REPLY_STEP }).catch(() => {});
      return true;
    }
    const pending = this.#pending.get(message.requestId);
    if (!pending) return true;
    this.#pending.delete(message.requestId);
    clearTimeout(pending.timer);
    const received = message.tensor.data;
    if (!sameBytes(pending.sent, received)) {
      pending.reject(new Error(`Cannot echo: the tensor came back from ${peer.id} altered`));
      return true;
    }
    pending.resolve({
      peer: peer.id,
      shape: message.tensor.shape,
      bytes: received.byteLength,
      roundTripMs: performance.now() - pending.startedAt,
    });
    return true;
  }

  /** Fails every pending probe. */
  close(): void {
    for (const requestId of [...this.#pending.keys()]) {
      this.#fail(requestId, new Error("Cannot echo: node shutting down"));
    }
  }

  #fail(requestId: string, error: Error): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
