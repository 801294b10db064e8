import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { ConnectionManager, FrameChannel, handshake } from "../../lib/transport/mod.ts";
import type { ConnectionEvents, PeerConnection, PeerMessage } from "../../lib/transport/mod.ts";
import { Logger } from "../../lib/log/logger.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";
import { encodeMessage, tensorFromTypedArray } from "../../lib/protocol/mod.ts";
import { waitUntil } from "../_helpers/wait_until.ts";

class Recorder implements ConnectionEvents {
  ups: string[] = [];
  downs: string[] = [];
  messages: { from: string; message: PeerMessage }[] = [];
  logs: string[] = [];
  logger = new Logger("debug", (line) => this.logs.push(line));

  onPeerUp(peer: PeerConnection): void {
    this.ups.push(peer.id);
  }
  onPeerDown(peerId: string): void {
    this.downs.push(peerId);
  }
  onMessage(peer: PeerConnection, message: PeerMessage): void {
    this.messages.push({ from: peer.id, message });
  }
}

interface TestNode {
  id: string;
  manager: ConnectionManager;
  events: Recorder;
}

async function startNode(
  id: string,
  options: { secret?: string; port?: number; nodeIdFilter?: string[]; silenceMs?: number } = {},
): Promise<TestNode> {
  const events = new Recorder();
  const manager = await ConnectionManager.start({
    selfId: id,
    capabilities: { ...UNKNOWN_CAPABILITIES, chip: `chip-${id}`, memory: 1000 },
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    secret: options.secret,
    nodeIdFilter: options.nodeIdFilter,
    validateNodeId: (peerId) => /^[A-Za-z0-9._-]{1,64}$/.test(peerId),
    logger: events.logger,
    events,
    liveness: { pingIntervalMs: 100, silenceTimeoutMs: options.silenceMs ?? 1500 },
    reconnect: { initialMs: 50, maxMs: 200 },
  });
  return { id, manager, events };
}

function target(node: TestNode, id = node.id) {
  return { id, host: "127.0.0.1", port: node.manager.port };
}

Deno.test("ConnectionManager exchanges tensors both ways over a connection only one side dialed", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    a.manager.setDialTargets([target(b)]);
    await waitUntil(
      () => a.manager.peer("b") !== undefined && b.manager.peer("a") !== undefined,
      "a and b connect",
    );
    equal(a.manager.peer("b")!.initiator, "local");
    equal(b.manager.peer("a")!.initiator, "remote");
    equal(b.manager.peer("a")!.capabilities.chip, "chip-a");

    const hidden = new Float32Array(2048).map((_, i) => i / 7);
    const message = {
      type: "tensor" as const,
      requestId: "r1",
      step: 3,
      shardIndex: 1,
      meta: "",
      tensor: tensorFromTypedArray("float32", [1, 1, 2048], hidden),
    };
    await b.manager.peer("a")!.send(message);
    await a.manager.peer("b")!.send({ ...message, step: 4 });
    await waitUntil(
      () => a.events.messages.length === 1 && b.events.messages.length === 1,
      "tensors arrive",
    );
    for (const [node, step] of [[a, 3], [b, 4]] as const) {
      const got = node.events.messages[0].message;
      ok(got.type === "tensor");
      equal(got.step, step);
      const view = new Float32Array(got.tensor.data.buffer, got.tensor.data.byteOffset, 2048);
      deepStrictEqual(view, hidden);
    }
    ok(await a.manager.peer("b")!.ping() >= 0);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager keeps one connection per pair when both sides dial", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    a.manager.setDialTargets([target(b)]);
    b.manager.setDialTargets([target(a)]);
    await waitUntil(
      () => a.manager.peer("b") !== undefined && b.manager.peer("a") !== undefined,
      "connected",
    );
    // Both sides must settle on the connection dialed by the smaller id ("a").
    await waitUntil(
      () =>
        a.manager.peer("b")?.initiator === "local" && b.manager.peer("a")?.initiator === "remote",
      "both keep a's connection",
    );
    await a.manager.peer("b")!.ping();
    await b.manager.peer("a")!.ping();
    equal(a.manager.peers().length, 1);
    equal(b.manager.peers().length, 1);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager refuses a peer with a wrong cluster secret on both sides", async () => {
  const a = await startNode("a", { secret: "right" });
  const b = await startNode("b", { secret: "wrong" });
  try {
    b.manager.setDialTargets([target(a)]);
    await waitUntil(
      () =>
        a.events.logs.some((l) => l.includes("failed the cluster secret proof")) &&
        b.events.logs.some((l) => l.includes("failed the cluster secret proof")),
      "both log the failed proof",
    );
    deepStrictEqual(a.events.ups, []);
    deepStrictEqual(b.events.ups, []);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager refuses a node without a secret when the cluster has one", async () => {
  const a = await startNode("a", { secret: "s3cret" });
  const b = await startNode("b");
  try {
    b.manager.setDialTargets([target(a)]);
    await waitUntil(
      () =>
        a.events.logs.some((l) => l.includes("sent no cluster secret proof")) &&
        b.events.logs.some((l) => l.includes("uses a cluster secret and this node has none")),
      "both sides refuse",
    );
    deepStrictEqual(a.events.ups, []);
    deepStrictEqual(b.events.ups, []);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager connects peers that share a secret", async () => {
  const a = await startNode("a", { secret: "shared" });
  const b = await startNode("b", { secret: "shared" });
  try {
    b.manager.setDialTargets([target(a)]);
    await waitUntil(() => a.manager.peer("b") !== undefined, "connected");
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager refuses an address that answers with another node id", async () => {
  const a = await startNode("a");
  const c = await startNode("c");
  try {
    a.manager.setDialTargets([target(c, "b")]);
    await waitUntil(
      () => a.events.logs.some((l) => l.includes("expected node b but reached node c")),
      "a logs the id mismatch",
    );
    equal(a.manager.peers().length, 0);
  } finally {
    await a.manager.close();
    await c.manager.close();
  }
});

Deno.test("ConnectionManager honours the node id filter", async () => {
  const a = await startNode("a", { nodeIdFilter: ["c"] });
  const b = await startNode("b");
  try {
    b.manager.setDialTargets([target(a)]);
    await waitUntil(
      () => a.events.logs.some((l) => l.includes("node b is not in --node-id-filter")),
      "a refuses b",
    );
    equal(a.manager.peers().length, 0);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager reconnects after the peer restarts", async () => {
  const a = await startNode("a");
  let b = await startNode("b");
  const port = b.manager.port;
  try {
    a.manager.setDialTargets([target(b)]);
    await waitUntil(() => a.manager.peer("b") !== undefined, "first connection");
    await b.manager.close();
    await waitUntil(() => a.manager.peer("b") === undefined, "a notices b is gone");
    deepStrictEqual(a.events.downs, ["b"]);
    b = await startNode("b", { port });
    await waitUntil(() => a.manager.peer("b") !== undefined, "a reconnects");
    deepStrictEqual(a.events.ups, ["b", "b"]);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager drops a peer that stops answering pings", async () => {
  const a = await startNode("a", { silenceMs: 400 });
  // A fake peer that completes a real handshake and then never reads or writes again.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let fake: FrameChannel | undefined;
  const fakeDone = (async () => {
    const conn = await listener.accept();
    fake = new FrameChannel(conn, 65536);
    await handshake(fake, {
      selfId: "silent",
      capabilities: UNKNOWN_CAPABILITIES,
      secretKey: null,
      timeoutMs: 5000,
      validateNodeId: () => true,
    });
  })();
  try {
    a.manager.setDialTargets([{ id: "silent", host: "127.0.0.1", port: listener.addr.port }]);
    await fakeDone;
    await waitUntil(() => a.events.downs.includes("silent"), "a drops the silent peer");
    ok(a.events.logs.some((l) => l.includes("Peer silent silent for")));
  } finally {
    a.manager.setDialTargets([]);
    await a.manager.close();
    fake?.close();
    listener.close();
  }
});

Deno.test("ConnectionManager closes a connection that sends garbage and keeps serving others", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    b.manager.setDialTargets([target(a)]);
    await waitUntil(() => a.manager.peer("b") !== undefined, "b connects");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: a.manager.port });
    // A length prefix far above the pre-handshake limit.
    await conn.write(new Uint8Array([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]));
    const buffer = new Uint8Array(1024);
    // The node answers with its hello, then closes on the bad frame: read to the end.
    while ((await conn.read(buffer)) !== null) { /* drain until the node closes */ }
    conn.close();
    await waitUntil(
      () =>
        a.events.logs.some((l) => l.includes("Refused connection from") && l.includes("exceeds")),
      "a logs why it closed the connection",
    );
    ok(await b.manager.peer("a")!.ping() >= 0);
    equal(a.manager.peers().length, 1);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager keeps frame order when large and small sends overlap", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    a.manager.setDialTargets([target(b)]);
    await waitUntil(() => a.manager.peer("b") !== undefined, "connected");
    const peer = a.manager.peer("b")!;
    const large = tensorFromTypedArray("float32", [1, 64, 2048], new Float32Array(64 * 2048));
    const sends: Promise<void>[] = [];
    // Interleave zero-copy (two-part) tensor frames with small frames sent while they queue.
    for (let step = 0; step < 40; step++) {
      sends.push(
        peer.send({
          type: "tensor",
          requestId: "big",
          step,
          shardIndex: 0,
          meta: "",
          tensor: large,
        }),
      );
      sends.push(peer.send({ type: "cancel", requestId: `small-${step}`, reason: "" }));
      if (step % 3 === 0) await sends[sends.length - 2];
    }
    await Promise.all(sends);
    await waitUntil(() => b.events.messages.length === 80, "all 80 frames arrive");
    const order = b.events.messages.map(({ message }) =>
      message.type === "tensor"
        ? `t${message.step}`
        : message.type === "cancel"
        ? message.requestId
        : "?"
    );
    const expected = Array.from({ length: 40 }, (_, i) => [`t${i}`, `small-${i}`]).flat();
    deepStrictEqual(order, expected);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});

Deno.test("ConnectionManager warns when it listens beyond loopback without a secret", async () => {
  const cases = [
    { hostname: "0.0.0.0", secret: undefined, warns: true },
    { hostname: "0.0.0.0", secret: "s", warns: false },
    { hostname: "127.0.0.1", secret: undefined, warns: false },
  ];
  for (const { hostname, secret, warns } of cases) {
    const events = new Recorder();
    const manager = await ConnectionManager.start({
      selfId: "a",
      capabilities: UNKNOWN_CAPABILITIES,
      hostname,
      port: 0,
      secret,
      validateNodeId: () => true,
      logger: events.logger,
      events,
    });
    await manager.close();
    const warning = events.logs.filter((l) => l.includes("without a cluster secret"));
    equal(warning.length, warns ? 1 : 0, `${hostname} with secret ${secret}: ${events.logs}`);
    if (warns) ok(warning[0].includes("WARN"));
  }
});

/** A peer that completes a real handshake with `a`, then only does what the test says. */
async function fakePeer(a: TestNode, id: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let conn: Deno.Conn | undefined;
  const accepted = (async () => {
    conn = await listener.accept();
    const channel = new FrameChannel(conn, 65536);
    await handshake(channel, {
      selfId: id,
      capabilities: UNKNOWN_CAPABILITIES,
      secretKey: null,
      timeoutMs: 5000,
      validateNodeId: () => true,
    });
    return channel;
  })();
  a.manager.setDialTargets([{ id, host: "127.0.0.1", port: listener.addr.port }]);
  const channel = await accepted;
  listener.close();
  await waitUntil(() => a.manager.peer(id) !== undefined, `a connects to ${id}`);
  /** Writes raw bytes behind the channel's frames: a frame's first half, say. */
  const writeRaw = async (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length;) at += await conn!.write(bytes.subarray(at));
  };
  return Object.assign(channel, { writeRaw });
}

/** Resolves after `ms`: the silence under test, not a wait for something to happen. */
function silence(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("ConnectionManager keeps a peer through the silence it announced, then drops it when silent again", async () => {
  const a = await startNode("a", { silenceMs: 300 });
  let fake: FrameChannel | undefined;
  try {
    fake = await fakePeer(a, "loader");
    await fake.send({ type: "quiet", quietMs: 60_000, reason: "loading layers 0..15" });
    await waitUntil(
      () => a.events.logs.some((l) => l.includes("Peer loader may be silent for up to 60 s")),
      "a logs the announced silence",
    );
    await silence(1200); // four silence timeouts without a frame
    ok(a.manager.peer("loader") !== undefined, "a keeps the quiet peer");
    deepStrictEqual(a.events.downs, []);
    await fake.send({ type: "quiet", quietMs: 0, reason: "" });
    await waitUntil(() => a.events.downs.includes("loader"), "a drops it once silent again");
  } finally {
    a.manager.setDialTargets([]);
    await a.manager.close();
    fake?.close();
  }
});

Deno.test("ConnectionManager tells a peer that connects during quietWhile, and again when it is over", async () => {
  const a = await startNode("a", { silenceMs: 300 });
  let fake: FrameChannel | undefined;
  let reading: Promise<void> | undefined;
  try {
    const heard: string[] = [];
    const result = await a.manager.quietWhile("loading layers 8..15", async () => {
      fake = await fakePeer(a, "late");
      const channel = fake;
      reading = (async () => {
        for (let m = await channel.receive(); m !== null; m = await channel.receive()) {
          if (m.type === "quiet") heard.push(`quiet ${m.quietMs} ${m.reason}`);
        }
      })().catch(() => {});
      await waitUntil(() => heard.length === 1, "the late peer hears of the quiet");
      return "loaded";
    });
    equal(result, "loaded");
    await waitUntil(() => heard.length === 2, "the late peer hears that a is back");
    deepStrictEqual(heard, ["quiet 600000 loading layers 8..15", "quiet 0 "]);
  } finally {
    a.manager.setDialTargets([]);
    await a.manager.close();
    fake?.close();
    await reading;
  }
});

Deno.test("ConnectionManager drops a quiet peer whose stream stalls mid-frame after the silence timeout", async () => {
  const a = await startNode("a", { silenceMs: 300 });
  let fake: Awaited<ReturnType<typeof fakePeer>> | undefined;
  try {
    fake = await fakePeer(a, "cut");
    await fake.send({ type: "quiet", quietMs: 60_000, reason: "loading layers 0..15" });
    await waitUntil(
      () => a.events.logs.some((l) => l.includes("Peer cut may be silent")),
      "a logs the announced silence",
    );
    // The first half of a pong: a peer blocked by a load writes nothing, so this stream broke.
    const pong = encodeMessage({ type: "pong", id: 7, sentAt: 1.5 });
    await fake.writeRaw(pong.subarray(0, pong.length >> 1));
    await waitUntil(() => a.events.downs.includes("cut"), "a drops the stalled peer");
    ok(a.events.logs.some((l) => /Peer cut silent for \d+ ms, disconnecting/.test(l)));
  } finally {
    a.manager.setDialTargets([]);
    await a.manager.close();
    fake?.close();
  }
});

Deno.test("ConnectionManager keeps a peer whose frame arrives slower than the silence timeout", async () => {
  const a = await startNode("a", { silenceMs: 300 });
  let fake: Awaited<ReturnType<typeof fakePeer>> | undefined;
  try {
    fake = await fakePeer(a, "slow");
    // A status frame trickling in over about four silence timeouts, as a big tensor on a
    // slow link does: the bytes arriving are the peer talking.
    const frame = encodeMessage({
      type: "status",
      json: JSON.stringify({ event: "loading", detail: "x".repeat(40) }),
    });
    const chunk = Math.ceil(frame.length / 12);
    for (let at = 0; at < frame.length; at += chunk) {
      await fake.writeRaw(frame.subarray(at, at + chunk));
      await silence(100); // the link's pace
    }
    await waitUntil(() => a.events.messages.length === 1, "a receives the whole frame");
    equal(a.events.messages[0].message.type, "status");
    deepStrictEqual(a.events.downs, [], "a kept the peer while its frame arrived");
  } finally {
    a.manager.setDialTargets([]);
    await a.manager.close();
    fake?.close();
  }
});

Deno.test("ConnectionManager.quietWhile tells every peer before and after, and judges no silence meanwhile", async () => {
  const a = await startNode("a", { silenceMs: 300 });
  let fake: FrameChannel | undefined;
  try {
    fake = await fakePeer(a, "silent");
    const heard: string[] = [];
    const reading = (async () => {
      for (let message = await fake.receive(); message !== null; message = await fake.receive()) {
        if (message.type === "quiet") heard.push(`quiet ${message.quietMs} ${message.reason}`);
      }
    })().catch(() => {});
    const result = await a.manager.quietWhile("loading layers 0..7", async () => {
      await waitUntil(() => heard.length === 1, "the peer hears of the quiet first");
      await silence(1200); // the peer answers no ping for four silence timeouts
      ok(a.manager.peer("silent") !== undefined, "a keeps the peer while quiet itself");
      return "loaded";
    });
    equal(result, "loaded");
    await waitUntil(() => heard.length === 2, "the peer hears that a is back");
    deepStrictEqual(heard, ["quiet 600000 loading layers 0..7", "quiet 0 "]);
    await waitUntil(() => a.events.downs.includes("silent"), "a judges silence again after");
    fake.close();
    await reading;
  } finally {
    a.manager.setDialTargets([]);
    await a.manager.close();
    fake?.close();
  }
});
