import { equal, match, ok } from "node:assert/strict";
import { freePort } from "./_helpers/free_port.ts";
import { waitUntil } from "./_helpers/wait_until.ts";
import { readLines } from "../scripts/_cluster_procs.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test({
  name:
    "deno task demo makes its model in an empty cache, streams one chat over two nodes and stops them",
  async fn() {
    const cache = await Deno.makeTempDir({ prefix: "exo-demo-" });
    let pids: number[] = [];
    try {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["task", "demo", "--max-tokens", "12"],
        cwd: ROOT,
        stdin: "null",
        // An empty cache: the demo writes its model and converts its shards itself. Never the
        // real Hugging Face hub.
        env: {
          NO_COLOR: "1",
          XDG_CACHE_HOME: cache,
          HF_HUB_OFFLINE: "1",
          HF_ENDPOINT: "http://127.0.0.1:9",
        },
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      const stderr = new TextDecoder().decode(output.stderr);
      pids = [...stdout.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
      equal(output.code, 0, `demo failed:\n${stdout}\n${stderr}`);
      ok(stdout.includes(`${cache}/exo-node/demo-model`), "the model is written into the cache");
      match(stdout, /alpha: layers 0\.\.\d+|beta: layers 0\.\.\d+/);
      // The streamed answer sits between the prompt and the figures.
      const answer = stdout.split("> Tell me a short story about two computers.")[1]
        ?.split("Generated ")[0].trim();
      ok(answer !== undefined && answer.length > 0, `a streamed answer:\n${stdout}`);
      match(stdout, /Generated 12 tokens \(prompt \d+, finish: length\)/);
      match(stdout, /Decode speed: \d+(\.\d+)? tokens\/s, every token one lap (alpha|beta) -> /);
      ok(stdout.trimEnd().endsWith("Both nodes have exited."), stdout);
      equal(pids.length, 2, "the demo names both node processes");
      if (Deno.build.os === "linux") {
        for (const pid of pids) {
          const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
          ok(!alive, `node process ${pid} has exited`);
        }
      }
    } finally {
      // A demo that failed to stop its nodes must not leave them running after the test: a
      // process still running with this test's cache on its command line is one of them.
      for (const pid of pids) {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
        if (cmdline.includes(cache)) Deno.kill(pid, "SIGKILL");
      }
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "deno task demo --serve keeps both nodes up with the page on --port until Ctrl-C (SIGINT), then stops them",
  async fn() {
    const cache = await Deno.makeTempDir({ prefix: "exo-demo-" });
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "demo", "--serve", "--port", String(port)],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: {
        NO_COLOR: "1",
        XDG_CACHE_HOME: cache,
        HF_HUB_OFFLINE: "1",
        HF_ENDPOINT: "http://127.0.0.1:9",
      },
    }).spawn();
    const lines: string[] = [];
    const stderr = new Response(child.stderr).text();
    const reading = (async () => {
      for await (const line of readLines(child.stdout)) lines.push(line);
    })();
    let pids: number[] = [];
    try {
      await waitUntil(
        () => lines.some((line) => line.includes(`Open http://localhost:${port}`)),
        "the demo says where its page is",
        120_000,
      );
      pids = lines.flatMap((line) => [...line.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])));
      const page = await fetch(`http://localhost:${port}/`);
      equal(page.status, 200);
      match(await page.text(), /<html/i);
      const models = await (await fetch(`http://localhost:${port}/v1/models`)).json();
      const preselected = models.data.find((m: { is_default: boolean }) => m.is_default);
      ok(preselected?.id.startsWith(`${cache}/exo-node/demo-model`), JSON.stringify(models));
      const chat = await fetch(`http://localhost:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
      });
      equal(chat.status, 200, "the page's default model answers");
      equal((await chat.json()).usage.completion_tokens, 4);

      child.kill("SIGINT");
      const status = await child.status;
      await reading;
      equal(status.code, 0, `${lines.join("\n")}\n${await stderr}`);
      ok(lines.join("\n").trimEnd().endsWith("Both nodes have exited."), lines.join("\n"));
      equal(pids.length, 2);
      for (const pid of pids) {
        const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
        ok(!alive, `node process ${pid} has exited`);
      }
    } finally {
      // The node pids are printed before the page's address: found even when that never came.
      pids = lines.flatMap((line) => [...line.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])));
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
      // Nodes left running hold the demo's pipes open: stop them before reading to the end.
      for (const pid of pids) {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
        if (cmdline.includes(cache)) Deno.kill(pid, "SIGKILL");
      }
      await reading.catch(() => {});
      await stderr.catch(() => "");
      await Deno.remove(cache, { recursive: true });
    }
  },
});
