// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * Wire benchmark: two nodes on loopback (this process and a child process). Prints the
 * round trip of a hidden-state tensor [1,1,2048] float32 and the throughput of a
 * [1,512,2048] float32 tensor through the exo-node protocol, each beside raw Deno TCP
 * moving the same bytes in the same run, as a ratio.
 *
 *   deno task bench:wire [--rounds N] [--json out.json] [--baseline old.json]
 *
 * Targets: latency ratio <= 1.15, throughput >= 1 GB/s.
 * @module
 */
import { parseArgs } from "node:util";
import { parseOrExit } from "./_usage.ts";
import { readExactly, writeAll } from "./_bench_util.ts";
import { ConnectionManager } from "../lib/transport/mod.ts";
import type { ConnectionEvents, PeerConnection, PeerMessage } from "../lib/transport/mod.ts";
import { encodeMessage, tensorFromTypedArray } from "../lib/protocol/mod.ts";
import type { TensorMessage } from "../lib/protocol/mod.ts";
import { Logger } from "../lib/log/mod.ts";
import { UNKNOWN_CAPABILITIES } from "../lib/topology/mod.ts";

const SMALL_SHAPE = [1, 1, 2048];
const LARGE_SHAPE = [1, 512, 2048];
const STREAM_DONE = "stream-done";

function tensorMessage(shape: number[], requestId: string): TensorMessage {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n).map((_, i) => Math.sin(i));
  return {
    type: "tensor",
    requestId,
    step: 0,
    shardIndex: 0,
    meta: "",
    tensor: tensorFromTypedArray("float32", shape, values),
  };
}

function manager(id: string, events: ConnectionEvents): Promise<ConnectionManager> {
  return ConnectionManager.start({
    selfId: id,
    capabilities: UNKNOWN_CAPABILITIES,
    hostname: "127.0.0.1",
    port: 0,
    validateNodeId: () => true,
    logger: new Logger("warn"),
    events,
  });
}

// ---- the child: an echoing node and a raw TCP echo server ----

async function serve(): Promise<void> {
  let streamed = 0;
  const node = await manager("bench-server", {
    onPeerUp() {},
    onPeerDown() {},
    onMessage(peer: PeerConnection, message: PeerMessage) {
      if (message.type !== "tensor") return;
      if (message.requestId === "stream") {
        streamed++;
        if (streamed === message.step) {
          streamed = 0;
          peer.send({ type: "status", json: STREAM_DONE }).catch(() => {});
        }
        return;
      }
      peer.send(message).catch(() => {});
    },
  });
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const rawTask = (async () => {
    for await (const conn of raw) {
      conn.setNoDelay(true);
      rawEcho(conn).catch(() => {});
    }
  })().catch(() => {});
  console.log(JSON.stringify({ nodePort: node.port, rawPort: raw.addr.port }));
  // Run until the parent closes our stdin.
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  raw.close();
  await rawTask;
  await node.close();
}

/**
 * Raw protocol: a u32 length and a payload. Mode byte 0 in the first payload byte means
 * echo; 1 means "count streamed payloads, reply one byte after `n`" (n in bytes 1..4).
 */
async function rawEcho(conn: Deno.Conn): Promise<void> {
  const header = new Uint8Array(4);
  let streamed = 0;
  while (true) {
    if (!(await readExactly(conn, header))) return;
    const length = new DataView(header.buffer).getUint32(0, true);
    const payload = new Uint8Array(4 + length);
    payload.set(header);
    if (!(await readExactly(conn, payload.subarray(4)))) return;
    if (payload[4] === 0) {
      await writeAll(conn, payload);
    } else {
      streamed++;
      const expected = new DataView(payload.buffer).getUint32(5, true);
      if (streamed === expected) {
        streamed = 0;
        await writeAll(conn, new Uint8Array([1]));
      }
    }
  }
}

// ---- the parent: measurements ----

interface Figures {
  small_protocol_median_us: number;
  small_protocol_p99_us: number;
  small_raw_median_us: number;
  small_raw_p99_us: number;
  small_latency_ratio: number;
  large_protocol_gb_per_s: number;
  large_raw_gb_per_s: number;
  large_throughput_ratio: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(rounds: number): Promise<Figures> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL(import.meta.url).pathname,
      "--serve",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await lines.read();
  const ports = JSON.parse(String(first.value).split("\n")[0]) as {
    nodePort: number;
    rawPort: number;
  };

  let waiting: ((message: PeerMessage) => void) | null = null;
  let connected: (peer: PeerConnection) => void = () => {};
  const peerReady = new Promise<PeerConnection>((resolve) => connected = resolve);
  const client = await manager("bench-client", {
    onPeerUp: (peer) => connected(peer),
    onPeerDown() {},
    onMessage(_peer, message) {
      const wake = waiting;
      waiting = null;
      wake?.(message);
    },
  });
  client.setDialTargets([{ id: "bench-server", host: "127.0.0.1", port: ports.nodePort }]);
  const peer = await peerReady;
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: ports.rawPort });
  raw.setNoDelay(true);

  const nextMessage = () => new Promise<PeerMessage>((resolve) => waiting = resolve);
  const small = tensorMessage(SMALL_SHAPE, "small");
  // The raw side moves exactly as many bytes as one encoded protocol frame.
  const smallFrameBytes = encodeMessage(small).length;
  const rawSmall = new Uint8Array(smallFrameBytes);
  new DataView(rawSmall.buffer).setUint32(0, smallFrameBytes - 4, true);
  const rawReply = new Uint8Array(smallFrameBytes);

  const protocolSmall = async () => {
    const t0 = performance.now();
    const reply = nextMessage();
    await peer.send(small);
    await reply;
    return performance.now() - t0;
  };
  const rawSmallTrip = async () => {
    const t0 = performance.now();
    await writeAll(raw, rawSmall);
    await readExactly(raw, rawReply);
    return performance.now() - t0;
  };

  const protocolTimes: number[] = [];
  const rawTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    await protocolSmall();
    await rawSmallTrip();
  }
  // Alternate so drift of this busy machine hits both columns alike.
  for (let i = 0; i < rounds; i++) {
    protocolTimes.push(await protocolSmall());
    rawTimes.push(await rawSmallTrip());
  }
  protocolTimes.sort((a, b) => a - b);
  rawTimes.sort((a, b) => a - b);

  const streamCount = 32;
  const large = tensorMessage(LARGE_SHAPE, "stream");
  large.step = streamCount;
  const largeFrame = encodeMessage(large);
  const rawLarge = new Uint8Array(largeFrame.length);
  new DataView(rawLarge.buffer).setUint32(0, largeFrame.length - 4, true);
  rawLarge[4] = 1;
  new DataView(rawLarge.buffer).setUint32(5, streamCount, true);
  const ack = new Uint8Array(1);

  const protocolStream = async () => {
    const t0 = performance.now();
    const done = nextMessage();
    for (let i = 0; i < streamCount; i++) await peer.send(large);
    await done;
    return (largeFrame.length * streamCount) / ((performance.now() - t0) / 1000) / 1e9;
  };
  const rawStream = async () => {
    const t0 = performance.now();
    for (let i = 0; i < streamCount; i++) await writeAll(raw, rawLarge);
    await readExactly(raw, ack);
    return (rawLarge.length * streamCount) / ((performance.now() - t0) / 1000) / 1e9;
  };
  const protocolRates: number[] = [];
  const rawRates: number[] = [];
  await protocolStream();
  await rawStream();
  for (let i = 0; i < 5; i++) {
    protocolRates.push(await protocolStream());
    rawRates.push(await rawStream());
  }
  protocolRates.sort((a, b) => a - b);
  rawRates.sort((a, b) => a - b);

  raw.close();
  await client.close();
  await child.stdin.close();
  await lines.cancel();
  await child.status;

  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const median = (xs: number[]) => quantile(xs, 0.5);
  return {
    small_protocol_median_us: us(median(protocolTimes)),
    small_protocol_p99_us: us(quantile(protocolTimes, 0.99)),
    small_raw_median_us: us(median(rawTimes)),
    small_raw_p99_us: us(quantile(rawTimes, 0.99)),
    small_latency_ratio: round(median(protocolTimes) / median(rawTimes)),
    large_protocol_gb_per_s: round(median(protocolRates)),
    large_raw_gb_per_s: round(median(rawRates)),
    large_throughput_ratio: round(median(protocolRates) / median(rawRates)),
  };
}

const USAGE = "usage: deno task bench:wire [--rounds 2000] [--json out.json] [--baseline old.json]";

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      serve: { type: "boolean", default: false },
      rounds: { type: "string", default: "2000" },
      json: { type: "string" },
      baseline: { type: "string" },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(rounds) || rounds < 10) {
    throw new RangeError(`--rounds must be an integer >= 10, got ${values.rounds}`);
  }
  return { values, rounds };
}

async function main(): Promise<void> {
  const { values, rounds } = parseOrExit("bench:wire", USAGE, parseOptions);
  if (values.serve) return await serve();
  const figures = await measure(rounds);
  console.log(`wire benchmark, ${rounds} round trips, loopback, two processes`);
  console.log(
    `  [1,1,2048] f32 round trip   protocol median ${figures.small_protocol_median_us} us, p99 ${figures.small_protocol_p99_us} us`,
  );
  console.log(
    `                              raw TCP  median ${figures.small_raw_median_us} us, p99 ${figures.small_raw_p99_us} us`,
  );
  console.log(
    `                              ratio ${figures.small_latency_ratio} (target <= 1.15)`,
  );
  console.log(
    `  [1,512,2048] f32 stream     protocol ${figures.large_protocol_gb_per_s} GB/s, raw TCP ${figures.large_raw_gb_per_s} GB/s, ratio ${figures.large_throughput_ratio} (target >= 1 GB/s)`,
  );
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
  if (values.baseline) {
    const before = JSON.parse(await Deno.readTextFile(values.baseline)) as Figures;
    console.log(`  against ${values.baseline}:`);
    for (const key of Object.keys(figures) as (keyof Figures)[]) {
      const change = before[key] ? ((figures[key] / before[key] - 1) * 100).toFixed(1) : "n/a";
      console.log(`    ${key}: ${before[key]} -> ${figures[key]} (${change}%)`);
    }
  }
}

await main();
