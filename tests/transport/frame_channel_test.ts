import assert from "node:assert/strict";
import { FrameChannel } from "../../lib/transport/frame_channel.ts";
import type { Message } from "../../lib/protocol/mod.ts";

const MAX_FRAME = 16 * 1024 * 1024;

/** A real loopback connection whose writing side counts its write calls. */
async function pair(): Promise<
  { sender: FrameChannel; receiver: FrameChannel; writes: () => number; close: () => void }
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const [dialed, accepted] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  listener.close();
  let writes = 0;
  const counted = new Proxy(dialed, {
    get(target, key) {
      if (key === "write") {
        return (bytes: Uint8Array) => {
          writes++;
          return target.write(bytes);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const sender = new FrameChannel(counted, MAX_FRAME);
  const receiver = new FrameChannel(accepted, MAX_FRAME);
  return {
    sender,
    receiver,
    writes: () => writes,
    close: () => {
      sender.close();
      receiver.close();
    },
  };
}

function token(step: number): Message {
  return { type: "token", requestId: `r${step % 4}`, step, tokens: [step], finishReason: "" };
}

async function receiveAll(channel: FrameChannel, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < count) {
    const message = await channel.receive();
    assert.ok(message !== null, `the stream ended after ${messages.length} of ${count} frames`);
    messages.push(message);
  }
  return messages;
}

Deno.test("FrameChannel sends the frames of one synchronous run in one write, in order", async () => {
  const { sender, receiver, writes, close } = await pair();
  try {
    // A batch's four tokens, as a shard worker sends them after one run.
    const batch = [0, 1, 2, 3].map((step) => sender.send(token(step)));
    await Promise.all(batch);
    assert.equal(writes(), 1);
    // Frames sent while a write is under way join the next one, after it.
    const first = sender.send(token(4));
    await Promise.resolve();
    const later = [5, 6, 7].map((step) => sender.send(token(step)));
    await Promise.all([first, ...later]);
    assert.ok(writes() <= 3, `${writes()} writes for two rounds`);
    const steps = (await receiveAll(receiver, 8)).map((m) => m.type === "token" ? m.step : -1);
    assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7]);
  } finally {
    close();
  }
});

Deno.test("FrameChannel writes a large tensor from the caller's buffer between joined small frames", async () => {
  const { sender, receiver, close } = await pair();
  try {
    const data = new Uint8Array(256 * 1024).map((_, i) => i % 251);
    const tensor = { dtype: "float32" as const, shape: [1, 1, data.length / 4], data };
    const sends = [
      sender.send(token(0)),
      sender.send({ type: "tensor", requestId: "big", step: 1, shardIndex: 1, meta: "", tensor }),
      sender.send(token(2)),
      sender.send(token(3)),
    ];
    await Promise.all(sends);
    const [a, big, c, d] = await receiveAll(receiver, 4);
    assert.deepEqual([a.type, big.type, c.type, d.type], ["token", "tensor", "token", "token"]);
    assert.ok(big.type === "tensor");
    assert.deepEqual(big.tensor.data, data);
  } finally {
    close();
  }
});

Deno.test("FrameChannel rejects a send that cannot be encoded at once and every send after close", async () => {
  const { sender, close } = await pair();
  try {
    assert.throws(
      () => sender.send({ type: "token", requestId: "r", step: -1, tokens: [], finishReason: "" }),
      RangeError,
    );
    sender.close();
    await assert.rejects(sender.send(token(1)), /connection closed/);
  } finally {
    close();
  }
});
