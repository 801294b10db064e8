import { equal, ok } from "node:assert/strict";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { FrameChannel, handshake } from "../../lib/transport/mod.ts";
import { encodeMessage } from "../../lib/protocol/mod.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/mod.ts";
import { seededRandom } from "../protocol/_fixtures.ts";
import { concat, mutate, randomMessage } from "../protocol/_random_frames.ts";
import { aliveIds, endpoints, spawnNode, writePeers } from "./_cluster.ts";

const TOTAL_FRAMES = 10_000;
const FRAMES_PER_CONNECTION = 100;
// Damaged length prefixes can leave a connection waiting for bytes that never come; the node
// ends those by its handshake timeout or its silence timeout, so many fuzzers run at once.
const FUZZERS = 16;
/** A length prefix no node accepts: every fuzz connection ends with a frame the node must refuse. */
const POISON = new Uint8Array([0xff, 0xff, 0xff, 0xff]);

/** Sends one batch of random and damaged frames, then waits until the node hangs up. */
async function fuzzConnection(port: number, random: () => number, n: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const channel = new FrameChannel(conn, 1 << 20);
  try {
    // Half the connections first pass the handshake, so the frames reach the peer decoder.
    if (n % 2 === 0) {
      await handshake(channel, {
        selfId: `fuzz-${n}`,
        capabilities: UNKNOWN_CAPABILITIES,
        secretKey: null,
        timeoutMs: 10_000,
        validateNodeId: () => true,
      });
    }
    const frames: Uint8Array[] = [];
    for (let i = 0; i < FRAMES_PER_CONNECTION; i++) {
      frames.push(mutate(random, encodeMessage(randomMessage(random)))[1]);
    }
    frames.push(POISON);
    const bytes = concat(frames);
    try {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
      // Drain whatever the node answers (hello, pongs) until it closes the connection.
      const sink = new Uint8Array(65536);
      while ((await conn.read(sink)) !== null) { /* the node closes on a bad frame */ }
    } catch {
      // A reset because the node closed first is the expected end.
    }
    return FRAMES_PER_CONNECTION;
  } finally {
    channel.close();
  }
}

Deno.test({
  name:
    "A live node survives 10,000 random and damaged frames, logs why, and keeps serving its peer",
  async fn() {
    const dir = await Deno.makeTempDir();
    const [a, b] = endpoints("a", "b");
    const nodes: NodeProcess[] = [];
    try {
      await writePeers(`${dir}/a_peers.json`, [{ id: "b", port: b.nodePort }]);
      await writePeers(`${dir}/b_peers.json`, [{ id: "a", port: a.nodePort }]);
      nodes.push(spawnNode(dir, a, ["--discovery-timeout", "2"]), spawnNode(dir, b));
      await Promise.all(nodes.map((n) => n.ready()));
      const [nodeA] = nodes;

      let sent = 0;
      let connections = 0;
      await Promise.all(Array.from({ length: FUZZERS }, async (_, worker) => {
        const random = seededRandom(1000 + worker);
        while (sent < TOTAL_FRAMES) {
          const n = connections++;
          sent += await fuzzConnection(a.nodePort, random, n);
        }
      }));
      ok(sent >= TOTAL_FRAMES);

      const health = await fetch(`${nodeA.url}/healthcheck`);
      equal(health.status, 200);
      await health.body?.cancel();
      equal((await aliveIds(nodeA)).join(), "a,b");
      const echo = await nodeA.postJson("/v1/diagnostics/tensor-echo", { peer: "b" });
      equal(echo.status, 200, JSON.stringify(echo.body));
      // Every fuzz connection ended with a frame the node refused, and it said why each time.
      const reasons = nodeA.logs.filter((line) =>
        /Refused connection from .*: |Closing connection to fuzz-\d+: |Peer fuzz-\d+ silent for /
          .test(line)
      );
      ok(
        reasons.length >= connections,
        `${reasons.length} logged reasons for ${connections} connections`,
      );
      ok(reasons.some((line) => line.includes("Cannot decode")));
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
