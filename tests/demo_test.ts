import { equal, match, ok } from "node:assert/strict";

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
