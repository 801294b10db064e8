// UdpDiscovery on loopback: the interface list is injected (127.0.0.1/30, whose "broadcast"
// 127.0.0.3 is a loopback address), so nothing leaves this machine.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { type Announcement, encodeAnnouncement } from "../../lib/discovery/announcement.ts";
import type { AnnouncedTarget } from "../../lib/discovery/announced_peers.ts";
import type { LocalInterface } from "../../lib/discovery/local_interfaces.ts";
import { UdpDiscovery } from "../../lib/discovery/udp_discovery.ts";
import type { DatagramCounts } from "../../lib/discovery/datagram_counts.ts";
import { Logger } from "../../lib/log/logger.ts";
import { waitUntil } from "../_helpers/wait_until.ts";
import { freePort } from "../_helpers/free_port.ts";

const TEST_LINK: LocalInterface = {
  name: "test0",
  type: "ethernet",
  priority: 4,
  address: "127.0.0.1",
  netmask: "255.255.255.252",
  up: true,
};

const CAPS = { model: "Test", chip: "Test", memory: 1000, flops: { fp32: 0, fp16: 0, int8: 0 } };

function announcement(overrides: Partial<Announcement> = {}): Announcement {
  return {
    nodeId: "b",
    instance: "b0b0b0b0b0b0b0b0",
    protocol: 1,
    nodePort: 50099,
    address: "127.0.0.1",
    interface: { name: "eth0", type: "ethernet" },
    priority: 4,
    capabilities: CAPS,
    ...overrides,
  };
}

function total(counts: DatagramCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

async function sendAll(from: string, port: number, datagrams: Uint8Array[]): Promise<void> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: from, port: 0 });
  try {
    for (const data of datagrams) {
      await socket.send(data, { transport: "udp", hostname: "127.0.0.1", port });
    }
  } finally {
    socket.close();
  }
}

Deno.test("UdpDiscovery ignores and counts every kind of bad datagram and a flood, still dials real announcements, and answers the first new node with a round at once", async () => {
  const port = freePort();
  const dialed: AnnouncedTarget[] = [];
  const lines: string[] = [];
  const discovery = await UdpDiscovery.start({
    selfId: "me",
    capabilities: CAPS,
    nodePort: 50051,
    protocol: 1,
    listenPort: port,
    broadcastPort: port, // hears its own announcements
    intervalMs: 3_600_000,
    forgetMs: 10_000,
    interfaces: () => Promise.resolve([TEST_LINK]),
    connectedHost: () => null,
    dial: (target) => {
      dialed.push(target);
      return Promise.resolve();
    },
    logger: new Logger("debug", (line) => lines.push(line)),
    settleMs: 0,
  });
  try {
    await waitUntil(() => discovery.status().datagrams.own === 1, "it hears itself");
    const encoder = new TextEncoder();
    const json = (value: unknown) => encoder.encode(JSON.stringify(value));
    const valid = JSON.parse(new TextDecoder().decode(encodeAnnouncement(announcement())));
    await sendAll("127.0.0.1", port, [
      new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      new Uint8Array(1300).fill(0x7b),
      json({ hello: "world" }),
      json({ ...valid, v: 9 }),
      json({ ...valid, node_port: 0 }),
      encodeAnnouncement(announcement({ protocol: 2, nodeId: "future" })),
      encodeAnnouncement(announcement({ address: "127.0.0.2", nodeId: "liar" })),
      encodeAnnouncement(announcement({ nodeId: "me", instance: "ffffffffffffffff" })),
      encodeAnnouncement(announcement()),
      // A second new node within the second gets no second early round.
      encodeAnnouncement(announcement({ nodeId: "c", instance: "c0c0c0c0c0c0c0c0" })),
    ]);
    // 127.0.0.9 is outside the injected 127.0.0.0/30 link.
    await sendAll("127.0.0.9", port, [encodeAnnouncement(announcement({ address: "127.0.0.9" }))]);
    // A flood from one sender: the first 20 (the burst) are read, the rest dropped unread.
    await sendAll("127.0.0.2", port, Array.from({ length: 100 }, () => json({ flood: true })));
    await waitUntil(
      // Its start round and the early one answering b (the interval is an hour), heard back.
      () => total(discovery.status().datagrams) === 2 + 11 + 100,
      "every datagram is counted",
    );
    const counts = discovery.status().datagrams;
    // The flood's first 20 (the burst) are read; a few more only if the machine is so slow
    // that the bucket refills (10 a second) while they arrive.
    const flooded = counts.not_announcement - 1;
    equal(flooded + counts.rate_limited, 100);
    ok(counts.rate_limited >= 60 && flooded >= 20, JSON.stringify(counts));
    deepStrictEqual({ ...counts, rate_limited: 0, not_announcement: 0 }, {
      accepted: 2,
      own: 2,
      rate_limited: 0,
      oversize: 1,
      not_json: 1,
      not_announcement: 0,
      wrong_version: 1,
      invalid: 1,
      address_mismatch: 1,
      off_link: 1,
      protocol_mismatch: 1,
      filtered: 0,
      duplicate_id: 1,
      too_many_peers: 0,
    });
    await waitUntil(() => dialed.length === 2, "the real announcements are dialed");
    deepStrictEqual(dialed.map((d) => d.id).sort(), ["b", "c"]);
    deepStrictEqual(dialed.find((d) => d.id === "b"), {
      id: "b",
      host: "127.0.0.1",
      port: 50099,
      via: { name: "test0", type: "ethernet" },
    });
    deepStrictEqual(discovery.status().heard.map((h) => [h.nodeId, h.instance]).sort(), [
      ["b", "b0b0b0b0b0b0b0b0"],
      ["c", "c0c0c0c0c0c0c0c0"],
    ]);
    deepStrictEqual(
      discovery.status().announcingOn.map((t) => [t.name, t.address, t.broadcast]),
      [["test0", "127.0.0.1", "127.0.0.3"]],
    );
    ok(
      lines.some((l) =>
        l.includes("WARN") && l.includes("Another node announces this node's id me from 127.0.0.1")
      ),
    );
    ok(
      lines.some((l) => l.includes("WARN") && l.includes("it speaks wire protocol 2, this node 1")),
    );
    // Bad datagrams are logged once per kind and sender, at debug level only.
    equal(lines.filter((l) => l.includes("from 127.0.0.2")).length, 1);
  } finally {
    await discovery.close();
  }
});

Deno.test("UdpDiscovery refuses a port it cannot bind with a clear message", async () => {
  const port = freePort();
  const holder = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  try {
    const error = await UdpDiscovery.start({
      selfId: "me",
      capabilities: CAPS,
      nodePort: 50051,
      protocol: 1,
      listenHost: "127.0.0.1",
      listenPort: port,
      broadcastPort: port,
      intervalMs: 1000,
      forgetMs: 10_000,
      interfaces: () => Promise.resolve([]),
      connectedHost: () => null,
      dial: () => Promise.resolve(),
      logger: new Logger("error", () => {}),
    }).then(() => null, (e: Error) => e);
    ok(
      error?.message.startsWith(`Cannot listen for announcements on UDP 127.0.0.1:${port}: `),
      error?.message,
    );
  } finally {
    holder.close();
  }
});
