import { PROTOCOL_VERSION } from "../protocol/mod.ts";
import type { Message } from "../protocol/mod.ts";
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { createNonce, createProof, verifyProof } from "./auth.ts";
import type { FrameChannel } from "./frame_channel.ts";

/** Thrown when a connection fails its handshake; the message says why. */
export class HandshakeError extends Error {
  /** Creates the error with the reason. */
  constructor(message: string) {
    super(message);
    this.name = "HandshakeError";
  }
}

/** What the handshake needs to know about this node and its rules. */
export interface HandshakeOptions {
  selfId: string;
  capabilities: DeviceCapabilities;
  /** HMAC key of the cluster secret, or null when this node has none. */
  secretKey: CryptoKey | null;
  /** The id the dialed address is supposed to have (from the peers file). */
  expectedPeerId?: string;
  /** When set, only these ids may connect. */
  allowedIds?: ReadonlySet<string>;
  timeoutMs: number;
  validateNodeId: (id: string) => boolean;
  /** A last say on the peer's id: a refusal reason, or null to go on. */
  admit?: (peerId: string) => string | null;
}

/** The authenticated identity of the other side. */
export interface HandshakeResult {
  peerId: string;
  capabilities: DeviceCapabilities;
}

/**
 * Runs the symmetric handshake: both sides send hello, then auth. Every mismatch is
 * detected by both sides on their own (a node without a secret sees a non-empty proof),
 * so neither side ever counts a peer as connected that the other refuses.
 */
export async function handshake(
  channel: FrameChannel,
  options: HandshakeOptions,
): Promise<HandshakeResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new HandshakeError(`Handshake timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([exchange(channel, options), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(
  channel: FrameChannel,
  options: HandshakeOptions,
): Promise<HandshakeResult> {
  const nonce = createNonce();
  await channel.send({
    type: "hello",
    version: PROTOCOL_VERSION,
    nodeId: options.selfId,
    capabilities: options.capabilities,
    nonce,
  });
  const hello = await expect(channel, "hello");
  const peerId = hello.nodeId;
  if (hello.version !== PROTOCOL_VERSION) {
    await refuse(
      channel,
      `protocol version ${hello.version} is not supported (this node speaks ${PROTOCOL_VERSION})`,
    );
  }
  if (!options.validateNodeId(peerId)) {
    await refuse(channel, `invalid node id ${JSON.stringify(peerId)}`);
  }
  if (peerId === options.selfId) await refuse(channel, `connected to itself (node id ${peerId})`);
  if (options.expectedPeerId !== undefined && peerId !== options.expectedPeerId) {
    await refuse(channel, `expected node ${options.expectedPeerId} but reached node ${peerId}`);
  }
  if (options.allowedIds && !options.allowedIds.has(peerId)) {
    await refuse(channel, `node ${peerId} is not in --node-id-filter`);
  }
  const refusal = options.admit?.(peerId) ?? null;
  if (refusal !== null) await refuse(channel, refusal);

  const proof = options.secretKey
    ? await createProof(options.secretKey, hello.nonce, options.selfId)
    : new Uint8Array(0);
  await channel.send({ type: "auth", proof });
  const auth = await expect(channel, "auth");
  if (options.secretKey === null) {
    if (auth.proof.length > 0) {
      await refuse(channel, `node ${peerId} uses a cluster secret and this node has none`);
    }
  } else if (auth.proof.length === 0) {
    await refuse(channel, `node ${peerId} sent no cluster secret proof`);
  } else if (!(await verifyProof(options.secretKey, nonce, peerId, auth.proof))) {
    await refuse(channel, `node ${peerId} failed the cluster secret proof`);
  }
  return { peerId, capabilities: hello.capabilities };
}

async function expect<T extends "hello" | "auth">(
  channel: FrameChannel,
  type: T,
): Promise<Extract<Message, { type: T }>> {
  const message = await channel.receive();
  if (message === null) throw new HandshakeError(`Connection closed before ${type}`);
  if (message.type === "refuse") throw new HandshakeError(`Refused by peer: ${message.reason}`);
  if (message.type !== type) {
    await refuse(channel, `expected ${type} but got ${message.type}`);
  }
  return message as Extract<Message, { type: T }>;
}

async function refuse(channel: FrameChannel, reason: string): Promise<never> {
  try {
    await channel.send({ type: "refuse", reason });
  } catch {
    // The peer may already be gone; the refusal is best effort and the reason is thrown below.
  }
  throw new HandshakeError(`Refused: ${reason}`);
}
