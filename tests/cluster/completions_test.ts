import assert from "node:assert/strict";
import type OpenAI from "openai";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { TcpForwarder } from "../_helpers/tcp_forwarder.ts";
import { freePort } from "../_helpers/free_port.ts";
import { aliveIds, endpoints, spawnNode, writePeers } from "./_cluster.ts";
import {
  clientOf,
  eventually,
  heldRequests,
  planIds,
  servingArgs,
  startServingCluster,
} from "./_serving.ts";
import {
  assertChat,
  expectation,
  type Expected,
  MAX_TOKENS,
  MESSAGES,
} from "./_chat_expectation.ts";

async function streamChat(
  client: OpenAI,
  expected: Expected,
  maxTokens = MAX_TOKENS,
): Promise<{ text: string; chunks: OpenAI.ChatCompletionChunk[] }> {
  const stream = await client.chat.completions.create({
    model: expected.model.dir,
    messages: MESSAGES,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  let text = "";
  for await (const chunk of stream) {
    chunks.push(chunk);
    text += chunk.choices[0]?.delta.content ?? "";
  }
  return { text, chunks };
}

async function assertStreamedChat(client: OpenAI, expected: Expected): Promise<void> {
  const { text, chunks } = await streamChat(client, expected);
  assert.equal(text, expected.text);
  assert.equal(chunks[0].object, "chat.completion.chunk");
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  const last = chunks[chunks.length - 1];
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage?.completion_tokens, expected.completionTokens);
  assert.equal(last.usage?.prompt_tokens, expected.promptIds.length);
  const finished = chunks[chunks.length - 2];
  assert.equal(finished.choices[0].finish_reason, expected.finishReason);
  assert.ok(chunks.every((chunk) => chunk.id === chunks[0].id));
}

async function assertTokenPrompt(client: OpenAI, expected: Expected): Promise<void> {
  const completion = await client.completions.create({
    model: expected.model.dir,
    prompt: expected.promptIds,
    max_tokens: MAX_TOKENS,
    temperature: 0,
  });
  assert.equal(completion.object, "text_completion");
  assert.equal(completion.choices[0].text, expected.text);
  assert.equal(completion.usage?.prompt_tokens, expected.promptIds.length);
}

Deno.test({
  name: "Completions on 1, 2 and 3 node processes equal the float64 reference's greedy tokens",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-serve-" });
    try {
      const expected = await expectation(dir);
      assert.ok(expected.text.length > 0, "the test model says something");
      for (const ids of [["solo"], ["n1", "n2"], ["m1", "m2", "m3"]]) {
        const { nodes } = await startServingCluster(dir, ids, expected.model.dir);
        try {
          // Ask the last node, so the origin is not always the first shard.
          const client = clientOf(nodes[nodes.length - 1]);
          await assertChat(client, expected);
          await assertStreamedChat(client, expected);
          await assertTokenPrompt(client, expected);
          if (ids.length === 2) {
            // Eight at once, from both nodes: all complete with the right text.
            const results = await Promise.all(
              Array.from({ length: 8 }, (_, i) => streamChat(clientOf(nodes[i % 2]), expected)),
            );
            for (const { text } of results) assert.equal(text, expected.text);
          }
          for (const node of nodes) {
            await eventually(
              async () => (await heldRequests(node)).length === 0,
              `${node.id} frees every finished request`,
            );
          }
        } finally {
          await stopAll(nodes);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "The two-Mac setup (one direction only through a forwarder) serves from either node",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-macs-" });
    const [mac1, mac2] = endpoints("mac1", "mac2");
    const tunnel = new TcpForwarder(mac2.nodePort);
    const nodes: NodeProcess[] = [];
    try {
      const expected = await expectation(dir);
      await writePeers(`${dir}/mac1_peers.json`, [{ id: "mac2", port: tunnel.port, memory: 1000 }]);
      await writePeers(`${dir}/mac2_peers.json`, [{ id: "mac1", port: freePort(), memory: 1000 }]);
      for (const endpoint of [mac1, mac2]) {
        nodes.push(spawnNode(dir, endpoint, [
          ...servingArgs(expected.model.dir),
          "--device-memory",
          "1000",
        ]));
      }
      await Promise.all(nodes.map((node) => node.ready()));
      for (const node of nodes) {
        await eventually(
          async () => (await planIds(node)).join() === "mac1,mac2",
          `${node.id} plans over both macs`,
        );
      }
      for (const node of nodes) await assertChat(clientOf(node), expected);
      assert.ok(nodes[1].logged("Peer mac1 connected (accepted"));
    } finally {
      await stopAll(nodes);
      await tunnel.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "A node killed mid-stream gives the client an error within 10 s; the next request runs on the rest",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-kill-" });
    let nodes: NodeProcess[] = [];
    try {
      const expected = await expectation(dir);
      ({ nodes } = await startServingCluster(dir, ["k1", "k2", "k3"], expected.model.dir, {
        maxGenerateTokens: 100000,
      }));
      const [origin, , victim] = nodes;
      const stream = await clientOf(origin).chat.completions.create({
        model: expected.model.dir,
        messages: MESSAGES,
        max_tokens: 100000,
        temperature: 0,
        stream: true,
      });
      let killedAt = 0;
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const _chunk of stream) {
            if (++received === 3) {
              killedAt = performance.now();
              await victim.kill("SIGKILL");
            }
          }
        })(),
        (error: Error) => {
          assert.match(error.message, /k3/);
          return true;
        },
      );
      assert.ok(killedAt > 0, "the stream was still running when the node was killed");
      const errorMs = performance.now() - killedAt;
      assert.ok(errorMs < 10_000, `the error came ${errorMs} ms after the kill`);
      await eventually(
        async () => (await aliveIds(origin)).join() === "k1,k2",
        "the origin no longer sees k3",
      );
      await assertChat(clientOf(origin), expected);
      await assertChat(clientOf(nodes[1]), expected);
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "A client that disconnects mid-stream frees the request on every node",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-disconnect-" });
    let nodes: NodeProcess[] = [];
    try {
      const expected = await expectation(dir);
      ({ nodes } = await startServingCluster(dir, ["d1", "d2", "d3"], expected.model.dir, {
        maxGenerateTokens: 100000,
      }));
      const controller = new AbortController();
      const stream = await clientOf(nodes[0]).chat.completions.create({
        model: expected.model.dir,
        messages: MESSAGES,
        max_tokens: 100000,
        temperature: 0,
        stream: true,
      }, { signal: controller.signal });
      let received = 0;
      try {
        for await (const _chunk of stream) {
          if (++received === 3) {
            // Every node holds the request while it streams.
            for (const node of nodes) {
              assert.equal(new Set(await heldRequests(node)).size, 1, `${node.id} holds it`);
            }
            controller.abort();
          }
        }
      } catch (error) {
        // The client may report its own abort as an error; any other error is a failure.
        if (!controller.signal.aborted) throw error;
      }
      assert.ok(received >= 3 && received < 1000, `the stream stopped after ${received} chunks`);
      for (const node of nodes) {
        await eventually(
          async () => (await heldRequests(node)).length === 0,
          `${node.id} frees the abandoned request`,
          10_000,
        );
      }
      await assertChat(clientOf(nodes[0]), expected);
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
