import assert from "node:assert/strict";
import { endpoints, spawnNode, writePeers } from "./_cluster.ts";
import { freePort } from "../_helpers/free_port.ts";
import type { NodeProcess } from "../_helpers/node_process.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";
import { type MainOutput, runMain } from "../_helpers/run_main.ts";

/** A hub address where nothing listens: every request is refused at once. */
function refusedHub(): { endpoint: string; host: string } {
  const port = freePort();
  return { endpoint: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function call(
  node: NodeProcess,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: ErrorBody }> {
  const response = await fetch(`${node.url}${path}`, init);
  return { status: response.status, headers: response.headers, body: await response.json() };
}

function chat(model: string): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] }),
  };
}

/** A model directory whose config is a real architecture this build does not run. */
async function writeGpt2Dir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      vocab_size: 50257,
    }),
  );
}

/** Runs `main.ts run ...` against the given hub, online, and waits for it. */
function runCommand(args: string[], home: string, hub: string): Promise<MainOutput> {
  return runMain(["run", ...args], home, { HF_HUB_OFFLINE: "", HF_ENDPOINT: hub });
}

/** The message names the host only: no scheme, no path, no query string. */
function assertReadable(message: string, host: string): void {
  assert.ok(message.includes(host), `${message} names ${host}`);
  assert.doesNotMatch(message, /https?:\/\/|\?|\/api\/|fetch failed/, message);
}

Deno.test("With the hub out of reach a known model is 503 hub_unreachable, saying why and what to do", () =>
  withTempDir(async (dir) => {
    const hub = refusedHub();
    const [endpoint] = endpoints("lonely");
    await writePeers(`${dir}/lonely_peers.json`, []);
    const node = spawnNode(dir, endpoint, [], {
      HF_HUB_OFFLINE: "",
      HF_ENDPOINT: hub.endpoint,
    });
    try {
      await node.ready();
      const answer = await call(node, "/v1/chat/completions", chat("llama-3.2-1b"));
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error.code, "hub_unreachable");
      assert.equal(answer.body.error.param, "model");
      const message = answer.body.error.message;
      assert.match(message, /^Model "llama-3\.2-1b" is known \(unsloth\/Llama-3\.2-1B-Instruct\)/);
      assert.match(message, /the connection was refused/);
      for (const hint of ["--offline", "--models-seed-dir", "HF_ENDPOINT", "model directory"]) {
        assert.ok(message.includes(hint), `${message} mentions ${hint}`);
      }
      assertReadable(message, hub.host);

      // POST /download says the same, with the same code.
      const download = await call(node, "/download", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "llama-3.2-1b" }),
      });
      assert.equal(download.status, 503, JSON.stringify(download.body));
      assert.equal(download.body.error.code, "hub_unreachable");

      // The failed download is failed everywhere: the progress route and the log.
      const progress = await node.getJson<
        {
          data: {
            model: string;
            status: string;
            done: boolean;
            eta: number | null;
            error: string | null;
          }[];
        }
      >("/v1/download/progress");
      const failed = progress.data.find((d) => d.model === "llama-3.2-1b");
      assert.equal(failed?.status, "failed");
      assert.equal(failed?.done, false);
      assert.equal(failed?.eta, null);
      assertReadable(failed?.error ?? "", hub.host);
      const logLines = node.logs.filter((line) => line.includes("Download llama-3.2-1b"));
      assert.ok(logLines.length > 0, node.logs.join("\n"));
      for (const line of logLines) {
        assert.match(line, /WARN .*Download llama-3\.2-1b failed: Cannot reach the hub at/);
        assert.doesNotMatch(line, /100%|#/, "no full bar for a failed download");
        assertReadable(line, hub.host);
      }
    } finally {
      await node.stop();
    }
  }));

Deno.test("The API tells an unknown model, an unsupported one and a wrong method apart", () =>
  withTempDir(async (dir) => {
    const [endpoint] = endpoints("api");
    await writePeers(`${dir}/api_peers.json`, []);
    const gpt2 = `${dir}/gpt2`;
    await writeGpt2Dir(gpt2);
    const node = spawnNode(dir, endpoint);
    try {
      await node.ready();
      const unknown = await call(node, "/v1/chat/completions", chat("gpt-4o"));
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, "model_not_found");
      assert.match(unknown.body.error.message, /GET \/v1\/models lists the models this node knows/);

      const unsupported = await call(node, "/v1/chat/completions", chat(gpt2));
      assert.equal(unsupported.status, 400, JSON.stringify(unsupported.body));
      assert.equal(unsupported.body.error.code, "unsupported_model");
      assert.equal(unsupported.body.error.param, "model");
      assert.match(
        unsupported.body.error.message,
        /model_type "gpt2" \(GPT2LMHeadModel\) is not supported: this build runs llama, mistral, qwen2, qwen3/,
      );

      const wrongMethod = await call(node, "/v1/chat/completions");
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get("allow"), "POST");
      assert.equal(wrongMethod.body.error.code, "method_not_allowed");
      const models = await call(node, "/v1/models", { method: "POST" });
      assert.equal(models.status, 405);
      assert.equal(models.headers.get("allow"), "GET, HEAD");
      const nowhere = await call(node, "/v1/nowhere");
      assert.equal(nowhere.status, 404, "an unknown path stays 404");

      // A real node sizes registry models in its own dtype (q4 here), for the page's picker.
      const listed = await node.getJson<
        { data: { id: string; parameters: number; memory_bytes: number | null }[] }
      >("/v1/models");
      const oneB = listed.data.find((m) => m.id === "llama-3.2-1b");
      assert.equal(oneB?.parameters, 1.24e9);
      assert.ok((oneB?.memory_bytes ?? 0) > 1e9, JSON.stringify(oneB));
    } finally {
      await node.stop();
    }
  }));

Deno.test("exo-node run gives the same reasons: hub out of reach, unknown name, unsupported model, no such directory", () =>
  withTempDir(async (dir) => {
    const hub = refusedHub();
    const home = `${dir}/home`;
    const oneError = (stderr: string): string => {
      const errors = stderr.trimEnd().split("\n").filter((line) => line.includes(" ERROR "));
      assert.equal(errors.length, 1, stderr);
      return errors[0];
    };

    const unreachable = await runCommand(["llama-3.2-1b", "--prompt", "hi"], home, hub.endpoint);
    assert.equal(unreachable.code, 1);
    assert.equal(unreachable.stdout, "");
    const line = oneError(unreachable.stderr);
    assert.match(line, /Model "llama-3\.2-1b" is known .* the connection was refused/);
    assert.match(line, /--models-seed-dir/);
    assertReadable(line, hub.host);
    assert.doesNotMatch(unreachable.stderr, /100%/, "no full bar for a failed download");

    const unknown = await runCommand(["gpt-4o", "--prompt", "hi"], home, hub.endpoint);
    assert.equal(unknown.code, 1);
    assert.match(
      oneError(unknown.stderr),
      /Model "gpt-4o" not found: it is not a registry id.*; registry ids: llama-3\.2-1b, /,
    );

    const gpt2 = `${dir}/gpt2`;
    await writeGpt2Dir(gpt2);
    const unsupported = await runCommand([gpt2, "--prompt", "hi"], home, hub.endpoint);
    assert.equal(unsupported.code, 1);
    assert.match(oneError(unsupported.stderr), /model_type "gpt2" .* this build runs llama/);

    const missing = await runCommand([`${dir}/absent`, "--prompt", "hi"], home, hub.endpoint);
    assert.equal(missing.code, 1);
    assert.match(
      oneError(missing.stderr),
      /no such directory .*; run takes a model directory, a registry id \(llama-3\.2-1b\) or a hub repo \(org\/name\)/,
    );
  }));
