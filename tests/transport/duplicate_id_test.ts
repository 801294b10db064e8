// Two processes with one node id reach a node with UDP discovery's admission rule, over
// real loopback TCP from two addresses (127.0.0.3 is n3, 127.0.0.5 its copy), with the
// order of the two handshakes fixed by hand: the copy must be refused, told why, and
// never replace n3, whichever handshake gets where first.
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { AnnouncedPeers } from "../../lib/discovery/announced_peers.ts";
import type { Announcement } from "../../lib/discovery/announcement.ts";
import { Logger } from "../../lib/log/logger.ts";
import { HANDSHAKE_MAX_FRAME_BYTES, PROTOCOL_VERSION } from "../../lib/protocol/mod.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";
import { createNonce } from "../../lib/transport/auth.ts";
import { ConnectionManager, FrameChannel, handshake } from "../../lib/transport/mod.ts";
import type { PeerConnection } from "../../lib/transport/mod.ts";
import { SourceAddressForwarder } from "../_helpers/source_address_forwarder.ts";
import { waitUntil } from "../_helpers/wait_until.ts";

const N3_HOST = "127.0.0.3";
const COPY_HOST = "127.0.0.5";
const TAKEN =
  `node id n3 is already used by the node at ${N3_HOST} (two nodes share an id: give each its own --node-id)`;
const CAPS = { ...UNKNOWN_CAPABILITIES, memory: 1000 };

/** n2, admitting peers as a node with UDP discovery does, and what it saw happen. */
interface Receiver {
  manager: ConnectionManager;
  heard: AnnouncedPeers;
  ups: string[];
  downs: string[];
  logs: string[];
}

async function startReceiver(): Promise<Receiver> {
  const heard = new AnnouncedPeers({
    selfId: "n2",
    selfInstance: "0000000000000002",
    forgetMs: 60_000,
    holdMs: 60_000,
  });
  const ups: string[] = [];
  const downs: string[] = [];
  const logs: string[] = [];
  const manager = await ConnectionManager.start({
    selfId: "n2",
    capabilities: CAPS,
    hostname: "127.0.0.1",
    port: 0,
    validateNodeId: (id) => /^[A-Za-z0-9._-]{1,64}$/.test(id),
    admitPeer: (id, remoteHost, holderHost) =>
      heard.admit(id, remoteHost, holderHost, performance.now()),
    logger: new Logger("debug", (line) => logs.push(line)),
    events: {
      onPeerUp: (peer) => ups.push(`${peer.id}@${peer.remoteHost}`),
      onPeerDown: (id, _reason, peer) => {
        downs.push(`${id}@${peer.remoteHost}`);
        heard.disconnected(id, peer.remoteHost);
      },
      onMessage: () => {},
    },
    // No pings: the hand-driven n3 does not answer them.
    liveness: { pingIntervalMs: 60_000, silenceTimeoutMs: 120_000 },
  });
  return { manager, heard, ups, downs, logs };
}

/** n2 hears the copy's announcements, and none of n3's (n3 dialed before its first one). */
function hearCopy(receiver: Receiver): void {
  const announcement: Announcement = {
    nodeId: "n3",
    instance: "cccccccccccccccc",
    protocol: PROTOCOL_VERSION,
    nodePort: 50051,
    address: COPY_HOST,
    interface: { name: "eth1", type: "ethernet" },
    priority: 4,
    capabilities: CAPS,
  };
  const via = {
    name: "eth1",
    type: "ethernet" as const,
    priority: 4,
    address: "127.0.0.1",
    netmask: "255.0.0.0",
    up: true,
  };
  const connectedHost = receiver.manager.peer("n3")?.remoteHost ?? null;
  receiver.heard.record(announcement, COPY_HOST, via, performance.now(), connectedHost);
}

/** Connections the test opened, closed when it ends however it ends. */
const opened = new Set<FrameChannel>();

/** A connection to n2 that arrives from `forwarder`'s source address. */
async function open(forwarder: SourceAddressForwarder): Promise<FrameChannel> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: forwarder.port });
  const channel = new FrameChannel(conn, HANDSHAKE_MAX_FRAME_BYTES);
  opened.add(channel);
  return channel;
}

/**
 * n3's handshake run by hand up to the point where n2 has admitted it: n3's hello sent,
 * n2's hello and auth received. n2 now waits for n3's auth.
 */
async function helloAsN3(channel: FrameChannel): Promise<void> {
  await channel.send({
    type: "hello",
    version: PROTOCOL_VERSION,
    nodeId: "n3",
    capabilities: CAPS,
    nonce: createNonce(),
  });
  equal((await channel.receive())?.type, "hello");
  const answer = await channel.receive();
  equal(answer?.type, "auth", `n2 admits n3: ${JSON.stringify(answer)}`);
}

/** The rest of n3's handshake: its auth (no cluster secret). */
async function authAsN3(channel: FrameChannel): Promise<void> {
  await channel.send({ type: "auth", proof: new Uint8Array(0) });
}

/** The copy's whole handshake, as a node runs it. */
async function copyHandshake(forwarder: SourceAddressForwarder): Promise<FrameChannel> {
  const channel = await open(forwarder);
  try {
    await handshake(channel, {
      selfId: "n3",
      capabilities: CAPS,
      secretKey: null,
      expectedPeerId: "n2",
      timeoutMs: 5000,
      validateNodeId: () => true,
    });
  } catch (error) {
    channel.close();
    opened.delete(channel);
    throw error;
  }
  return channel;
}

async function withReceiver(
  test: (
    receiver: Receiver,
    n3: SourceAddressForwarder,
    copy: SourceAddressForwarder,
  ) => Promise<void>,
): Promise<void> {
  const receiver = await startReceiver();
  const n3 = new SourceAddressForwarder(receiver.manager.port, N3_HOST);
  const copy = new SourceAddressForwarder(receiver.manager.port, COPY_HOST);
  try {
    await test(receiver, n3, copy);
  } finally {
    for (const channel of opened) channel.close();
    opened.clear();
    await receiver.manager.close();
    await n3.close();
    await copy.close();
  }
}

Deno.test("ConnectionManager refuses a copy of a connected node heard only by its announcements, and it never replaces the holder", async () => {
  await withReceiver(async (receiver, n3Forwarder, copyForwarder) => {
    const n3 = await open(n3Forwarder);
    await helloAsN3(n3);
    await authAsN3(n3);
    await waitUntil(() => receiver.manager.peer("n3") !== undefined, "n2 registers n3");
    const holder: PeerConnection = receiver.manager.peer("n3")!;
    equal(holder.remoteHost, N3_HOST);
    hearCopy(receiver);

    await rejects(copyHandshake(copyForwarder), { message: `Refused by peer: ${TAKEN}` });
    equal(receiver.manager.peer("n3"), holder);
    equal(holder.closeReason, null);
    deepStrictEqual(receiver.ups, [`n3@${N3_HOST}`]);
    deepStrictEqual(receiver.downs, []);
    ok(receiver.logs.some((line) => line.includes(`Refused: ${TAKEN}`)), receiver.logs.join("\n"));

    // n3 goes away (its connection closes): now the other process may take the id.
    n3.close();
    await waitUntil(() => receiver.manager.peer("n3") === undefined, "n2 drops n3");
    await copyHandshake(copyForwarder);
    await waitUntil(() => receiver.manager.peer("n3") !== undefined, "n2 registers the new n3");
    equal(receiver.manager.peer("n3")!.remoteHost, COPY_HOST);
    deepStrictEqual(receiver.downs, [`n3@${N3_HOST}`]);
  });
});

Deno.test("ConnectionManager refuses a copy whose handshake arrives while n3's, admitted, is still under way", async () => {
  await withReceiver(async (receiver, n3Forwarder, copyForwarder) => {
    hearCopy(receiver);
    // n3's handshake stops right after n2 admitted it: nothing is registered yet.
    const n3 = await open(n3Forwarder);
    await helloAsN3(n3);
    equal(receiver.manager.peer("n3"), undefined);

    await rejects(copyHandshake(copyForwarder), { message: `Refused by peer: ${TAKEN}` });

    await authAsN3(n3);
    await waitUntil(() => receiver.manager.peer("n3") !== undefined, "n2 registers n3");
    equal(receiver.manager.peer("n3")!.remoteHost, N3_HOST);
    deepStrictEqual(receiver.ups, [`n3@${N3_HOST}`]);
    deepStrictEqual(receiver.downs, []);
  });
});
