// Without a terminal (or with TERM=dumb) a node logs plain timestamped lines, as before the
// view existed, and never writes an escape sequence.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../_helpers/free_port.ts";
import { hasTmux, Tmux } from "../_helpers/tmux.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

async function nodeArgs(dir: string): Promise<string[]> {
  await Deno.writeTextFile(join(dir, "peers.json"), JSON.stringify({ peers: {} }));
  return [
    "run",
    "--allow-all",
    MAIN,
    "--node-id",
    "plain",
    "--node-host",
    "127.0.0.1",
    "--node-port",
    String(freePort()),
    "--chatgpt-api-port",
    String(freePort()),
    "--discovery-config-path",
    join(dir, "peers.json"),
    "--state-dir",
    join(dir, "state"),
  ];
}

Deno.test("A node whose stdout is not a terminal logs plain timestamped lines, no escapes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exo-plain-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: await nodeArgs(dir),
      env: { TERM: "xterm-256color", HF_HUB_OFFLINE: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    const stdoutText = new Response(child.stdout).text();
    let stderr = "";
    const reader = child.stderr.getReader();
    const readMore = async () => {
      const { value, done } = await reader.read();
      if (!done) stderr += decoder.decode(value, { stream: true });
      return !done;
    };
    while (!stderr.includes("HTTP API on") && await readMore());
    // Once the API listens; a bit later the node waits for its signals: ask until it stops.
    const status = child.status;
    let ended = false;
    status.then(() => ended = true);
    while (!ended && !stderr.includes("Received SIGTERM")) {
      child.kill("SIGTERM");
      await Promise.race([readMore(), status]);
    }
    while (await readMore());
    const stdout = await stdoutText;
    assert.equal((await status).code, 0, stderr);
    assert.ok(!stderr.includes("\x1b") && !stdout.includes("\x1b"), JSON.stringify(stderr));
    const lines = stderr.trim().split("\n");
    assert.ok(lines.length >= 3);
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) /);
    }
    assert.match(stderr, /INFO Stopped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: hasTmux()
    ? "A node on a TERM=dumb terminal logs plain lines instead of drawing the view"
    : "TERM=dumb in tmux (skipped: tmux is not installed; CI installs it)",
  ignore: !hasTmux(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "exo-dumb-" });
    const tmux = new Tmux();
    try {
      await tmux.start("dumb", [Deno.execPath(), ...await nodeArgs(dir)], {
        columns: 200,
        rows: 30,
      }, {
        TERM: "dumb",
        HF_HUB_OFFLINE: "1",
      });
      const started = performance.now();
      let screen: string[] = [];
      while (!screen.some((line) => line.includes("HTTP API on"))) {
        assert.ok(performance.now() - started < 30_000, `no start line:\n${screen.join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        screen = await tmux.capture("dumb");
      }
      assert.equal(await tmux.display("dumb", "#{alternate_on}"), "0");
      assert.ok(screen.some((line) => / INFO Node plain: /.test(line)));
    } finally {
      await tmux.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
