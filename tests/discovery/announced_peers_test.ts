import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Announcement } from "../../lib/discovery/announcement.ts";
import { AnnouncedPeers } from "../../lib/discovery/announced_peers.ts";
import { interfacePriority, type InterfaceType } from "../../lib/discovery/interface_type.ts";
import type { LocalInterface } from "../../lib/discovery/local_interfaces.ts";

const CAPS = { model: "Mac", chip: "M2", memory: 16384, flops: { fp32: 1, fp16: 2, int8: 4 } };

function announce(
  nodeId: string,
  instance: string,
  address: string,
  type: InterfaceType = "ethernet",
  nodePort = 50051,
): Announcement {
  return {
    nodeId,
    instance,
    protocol: 1,
    nodePort,
    address,
    interface: { name: `${type}0`, type },
    priority: interfacePriority(type),
    capabilities: CAPS,
  };
}

function local(type: InterfaceType, name = `my-${type}`): LocalInterface {
  return {
    name,
    type,
    priority: interfacePriority(type),
    address: "10.0.0.1",
    netmask: "255.255.255.0",
    up: true,
  };
}

const ETH = local("ethernet");

function peers(): AnnouncedPeers {
  return new AnnouncedPeers({
    selfId: "me",
    selfInstance: "0000000000000001",
    forgetMs: 10_000,
    holdMs: 6_000,
  });
}

Deno.test("AnnouncedPeers knows its own announcements and reports an impostor of its id once", () => {
  const registry = peers();
  deepStrictEqual(
    registry.record(announce("me", "0000000000000001", "10.0.0.1"), "10.0.0.1", ETH, 0, null),
    { kind: "own" },
  );
  deepStrictEqual(
    registry.record(announce("me", "00000000000000ff", "10.0.0.7"), "10.0.0.7", ETH, 0, null),
    {
      kind: "self_duplicate",
      first: true,
    },
  );
  deepStrictEqual(
    registry.record(announce("me", "00000000000000ff", "10.0.0.7"), "10.0.0.7", ETH, 100, null),
    {
      kind: "self_duplicate",
      first: false,
    },
  );
  deepStrictEqual(registry.list(), []);
});

Deno.test("AnnouncedPeers dials a new node over the address it was heard on", () => {
  const registry = peers();
  deepStrictEqual(
    registry.record(announce("b", "b1b1b1b1b1b1b1b1", "10.0.0.2"), "10.0.0.2", ETH, 0, null),
    { kind: "accepted", replaced: null, fresh: true },
  );
  // The same process heard again: no longer fresh.
  deepStrictEqual(
    registry.record(announce("b", "b1b1b1b1b1b1b1b1", "10.0.0.2"), "10.0.0.2", ETH, 5, null),
    { kind: "accepted", replaced: null, fresh: false },
  );
  deepStrictEqual(registry.dialTarget("b", 10), {
    id: "b",
    host: "10.0.0.2",
    port: 50051,
    via: { name: "my-ethernet", type: "ethernet" },
  });
  equal(registry.dialTarget("nobody", 10), null);
});

Deno.test("AnnouncedPeers reaches a node seen on several links over the best one", () => {
  const registry = peers();
  const id = "b1b1b1b1b1b1b1b1";
  registry.record(
    announce("b", id, "172.17.0.2", "container"),
    "172.17.0.2",
    local("container", "docker0"),
    0,
    null,
  );
  registry.record(
    announce("b", id, "192.168.1.9", "wifi"),
    "192.168.1.9",
    local("wifi", "en0"),
    1,
    null,
  );
  registry.record(
    announce("b", id, "169.254.3.3", "thunderbolt"),
    "169.254.3.3",
    local("thunderbolt", "bridge0"),
    2,
    null,
  );
  deepStrictEqual(registry.dialTarget("b", 10)?.via, { name: "bridge0", type: "thunderbolt" });
  // The link is only as good as its worse end: Ethernet here, Wi-Fi there ranks as Wi-Fi.
  const mixed = peers();
  mixed.record(
    announce("c", id, "10.1.0.3", "wifi"),
    "10.1.0.3",
    local("ethernet", "eth0"),
    0,
    null,
  );
  mixed.record(
    announce("c", id, "10.2.0.3", "ethernet"),
    "10.2.0.3",
    local("ethernet", "eth1"),
    0,
    null,
  );
  equal(mixed.dialTarget("c", 10)?.host, "10.2.0.3");
  // An address not heard for a while is not dialed while a fresh one is.
  equal(registry.dialTarget("b", 7_000), null);
  registry.record(
    announce("b", id, "192.168.1.9", "wifi"),
    "192.168.1.9",
    local("wifi", "en0"),
    7_000,
    null,
  );
  equal(registry.dialTarget("b", 7_001)?.host, "192.168.1.9");
});

Deno.test("AnnouncedPeers refuses a second process announcing an id that is connected", () => {
  const registry = peers();
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  deepStrictEqual(
    registry.record(
      announce("n3", "bbbbbbbbbbbbbbbb", "10.0.0.5"),
      "10.0.0.5",
      ETH,
      100,
      "10.0.0.3",
    ),
    { kind: "duplicate", holder: "10.0.0.3", first: true },
  );
  deepStrictEqual(
    registry.record(
      announce("n3", "bbbbbbbbbbbbbbbb", "10.0.0.5"),
      "10.0.0.5",
      ETH,
      2600,
      "10.0.0.3",
    ),
    { kind: "duplicate", holder: "10.0.0.3", first: false },
  );
  // And the same when neither is connected yet: the first one heard holds the id.
  const fresh = peers();
  fresh.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  equal(
    fresh.record(announce("n3", "bbbbbbbbbbbbbbbb", "10.0.0.5"), "10.0.0.5", ETH, 1, null).kind,
    "duplicate",
  );
  equal(fresh.dialTarget("n3", 2)?.host, "10.0.0.3");
});

Deno.test("AnnouncedPeers refuses the handshake of a second process with a taken id", () => {
  const registry = peers();
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  registry.record(announce("n3", "bbbbbbbbbbbbbbbb", "10.0.0.5"), "10.0.0.5", ETH, 10, "10.0.0.3");
  equal(
    registry.admit("n3", "10.0.0.5", "10.0.0.3", 20),
    "node id n3 is already used by the node at 10.0.0.3 (two nodes share an id: give each its own --node-id)",
  );
  equal(registry.admit("n3", "10.0.0.5", null, 20)?.includes("10.0.0.3"), true);
  equal(registry.admit("n3", "10.0.0.3", null, 20), null);
  equal(registry.admit("n3", "10.0.0.3", "10.0.0.3", 20), null);
  // An address never announced (a tunnel, a peers file) is left to the other rules while
  // the id is not connected; while it is, from elsewhere, it is refused like any other.
  equal(registry.admit("n3", "127.0.0.1", null, 20), null);
  equal(registry.admit("n9", "10.0.0.9", null, 20), null);
  equal(registry.admit("n3", "127.0.0.1", "10.0.0.3", 20)?.includes("at 10.0.0.3 "), true);
});

Deno.test("AnnouncedPeers refuses a second process while the id is connected from an address never announced", () => {
  // n3 dialed this node before any of its announcements arrived; then a copy is heard.
  const registry = peers();
  equal(
    registry.record(announce("n3", "bbbbbbbbbbbbbbbb", "10.0.0.5"), "10.0.0.5", ETH, 0, "10.0.0.3")
      .kind,
    "accepted",
  );
  equal(
    registry.admit("n3", "10.0.0.5", "10.0.0.3", 10),
    "node id n3 is already used by the node at 10.0.0.3 (two nodes share an id: give each its own --node-id)",
  );
  // Once n3's own announcement is heard, the copy's is a duplicate too.
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 20, "10.0.0.3");
  equal(
    registry.record(announce("n3", "bbbbbbbbbbbbbbbb", "10.0.0.5"), "10.0.0.5", ETH, 30, "10.0.0.3")
      .kind,
    "duplicate",
  );
  equal(registry.admit("n3", "10.0.0.5", "10.0.0.3", 40)?.includes("at 10.0.0.3 "), true);
});

Deno.test("AnnouncedPeers admits the connected process again from another address it announces on", () => {
  const registry = peers();
  const wifi = local("wifi");
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  registry.record(
    announce("n3", "aaaaaaaaaaaaaaaa", "10.1.0.3", "wifi"),
    "10.1.0.3",
    wifi,
    0,
    null,
  );
  // Connected over Ethernet, it dials again over Wi-Fi (its cable was pulled, say).
  equal(registry.admit("n3", "10.1.0.3", "10.0.0.3", 10), null);
  // And from the connected address itself: a simultaneous dial, or a restart there.
  equal(registry.admit("n3", "10.0.0.3", "10.0.0.3", 10), null);
});

Deno.test("AnnouncedPeers lets a node restarted at a new address replace its old entry", () => {
  const registry = peers();
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  // The old process's connection closed (killed), then the new one announces elsewhere.
  registry.disconnected("n3", "10.0.0.3");
  deepStrictEqual(
    registry.record(announce("n3", "cccccccccccccccc", "10.0.0.6"), "10.0.0.6", ETH, 500, null),
    { kind: "accepted", replaced: null, fresh: true },
  );
  equal(registry.dialTarget("n3", 600)?.host, "10.0.0.6");
  deepStrictEqual(registry.list().map((entry) => entry.instance), ["cccccccccccccccc"]);
});

Deno.test("AnnouncedPeers lets a restart on the same address replace the old process at once", () => {
  const registry = peers();
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  deepStrictEqual(
    registry.record(announce("n3", "cccccccccccccccc", "10.0.0.3"), "10.0.0.3", ETH, 100, null),
    { kind: "accepted", replaced: "10.0.0.3", fresh: true },
  );
  deepStrictEqual(registry.list().map((entry) => entry.instance), ["cccccccccccccccc"]);
});

Deno.test("AnnouncedPeers lets a silent old process's id go after the hold time", () => {
  const registry = peers();
  // Never connected (refused, say), then gone without a word.
  registry.record(announce("n3", "aaaaaaaaaaaaaaaa", "10.0.0.3"), "10.0.0.3", ETH, 0, null);
  equal(
    registry.record(announce("n3", "cccccccccccccccc", "10.0.0.6"), "10.0.0.6", ETH, 5_000, null)
      .kind,
    "duplicate",
  );
  equal(
    registry.record(announce("n3", "cccccccccccccccc", "10.0.0.6"), "10.0.0.6", ETH, 6_500, null)
      .kind,
    "accepted",
  );
  equal(registry.dialTarget("n3", 6_500)?.host, "10.0.0.6");
});

Deno.test("AnnouncedPeers forgets nodes not heard for the discovery timeout", () => {
  const registry = peers();
  registry.record(announce("b", "b1b1b1b1b1b1b1b1", "10.0.0.2"), "10.0.0.2", ETH, 0, null);
  registry.record(announce("c", "c1c1c1c1c1c1c1c1", "10.0.0.4"), "10.0.0.4", ETH, 5_000, null);
  deepStrictEqual(registry.expire(9_000), []);
  deepStrictEqual(registry.expire(10_001).map((entry) => entry.nodeId), ["b"]);
  deepStrictEqual(registry.list().map((entry) => entry.nodeId), ["c"]);
});

Deno.test("AnnouncedPeers remembers at most maxInstances processes", () => {
  const registry = new AnnouncedPeers({
    selfId: "me",
    selfInstance: "0000000000000001",
    forgetMs: 10_000,
    holdMs: 6_000,
    maxInstances: 2,
  });
  equal(
    registry.record(announce("a", "a1a1a1a1a1a1a1a1", "10.0.0.2"), "10.0.0.2", ETH, 0, null).kind,
    "accepted",
  );
  equal(
    registry.record(announce("b", "b1b1b1b1b1b1b1b1", "10.0.0.3"), "10.0.0.3", ETH, 0, null).kind,
    "accepted",
  );
  equal(
    registry.record(announce("c", "c1c1c1c1c1c1c1c1", "10.0.0.4"), "10.0.0.4", ETH, 0, null).kind,
    "full",
  );
  // Known processes still update.
  equal(
    registry.record(announce("a", "a1a1a1a1a1a1a1a1", "10.0.0.2"), "10.0.0.2", ETH, 10, null).kind,
    "accepted",
  );
  ok(registry.list().length === 2);
});

Deno.test("AnnouncedPeers tries another link after the best one fails, and only usable links", () => {
  const registry = peers();
  const id = "b1b1b1b1b1b1b1b1";
  registry.record(
    announce("b", id, "192.168.1.9", "wifi"),
    "192.168.1.9",
    local("wifi", "en0"),
    0,
    null,
  );
  registry.record(announce("b", id, "10.0.0.2", "ethernet"), "10.0.0.2", ETH, 0, null);
  equal(registry.dialTarget("b", 10)?.host, "10.0.0.2");
  registry.failed("b", "10.0.0.2", 20);
  equal(registry.dialTarget("b", 30)?.host, "192.168.1.9");
  // A link that is down here is skipped whatever its rank.
  equal(registry.dialTarget("b", 30, (host) => host !== "192.168.1.9")?.host, "10.0.0.2");
  equal(registry.dialTarget("b", 30, () => false), null);
});
