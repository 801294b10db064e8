// The terminal view in a real terminal: two node processes under tmux, read with
// capture-pane. CI installs tmux (.ci/run) and sets EXO_REQUIRE_TMUX, so there the test
// fails rather than skips without it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import stringWidth from "string-width";
import { freePort } from "../_helpers/free_port.ts";
import { hasTmux, Tmux } from "../_helpers/tmux.ts";
import { endpoints, writePeers } from "../cluster/_cluster.ts";
import { writeTestModel } from "../cluster/_model.ts";
import { servingArgs } from "../cluster/_serving.ts";
import type { TopologySnapshot } from "../../lib/node/topology_snapshot.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/tui/", import.meta.url));
const REQUIRED = Deno.env.get("EXO_REQUIRE_TMUX") === "1";
const PROMPT = "Tell me about the cluster";

/** Polls the screen of a session until `check` holds; returns that screen. */
async function screenUntil(
  tmux: Tmux,
  session: string,
  what: string,
  check: (screen: string[]) => boolean,
  timeoutMs = 20_000,
): Promise<string[]> {
  const started = performance.now();
  let screen: string[] = [];
  while (performance.now() - started < timeoutMs) {
    screen = await tmux.capture(session).catch(() => []);
    if (check(screen)) return screen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting until ${what}; screen:\n${screen.join("\n")}`,
  );
}

/** Polls a tmux format of a session until it equals `value`. */
async function displayUntil(
  tmux: Tmux,
  session: string,
  format: string,
  value: string,
): Promise<void> {
  const started = performance.now();
  let last = "";
  while (performance.now() - started < 20_000) {
    last = await tmux.display(session, format);
    if (last === value) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting until ${format} of ${session} is ${value}: still ${last}`);
}

async function healthy(port: number, timeoutMs = 30_000): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthcheck`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Node on port ${port} not healthy after ${timeoutMs} ms`);
}

async function save(name: string, screen: string[]): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await Deno.writeTextFile(join(ARTIFACTS, name), screen.join("\n") + "\n");
}

const has = (screen: string[], text: string) => screen.some((line) => line.includes(text));
const matches = (screen: string[], pattern: RegExp) => screen.some((line) => pattern.test(line));
/** The link between the two boxes with its measured round trip: "◀── 0.57 ms ──▶". */
const LINK = /◀─+ [\d.]+ ms ─+▶/;
const GPU_BAR = /GPU poor █*░+ GPU rich/;
/** Cells of the warnings pane's title, which the view draws across the whole width. */
const header = (screen: string[]) =>
  stringWidth(screen.find((line) => line.startsWith("── Warnings and errors")) ?? "");
/** tmux 3.3 shows exit status 0 as an empty string, others as the number. */
const exitedCleanly = (status: string) => status === "" || status === "0";
/**
 * Whether the screen is a frame drawn for `columns` × `rows`: right after a resize the
 * pane still shows the old frame, cut or with blank rows under it. A frame ends its top
 * bar with "q quit" at the last column, and its bottom row is the warnings pane's.
 */
const frameOf = (s: string[], columns: number, rows: number) =>
  s.length === rows && s[0].trimEnd().endsWith("q quit") &&
  stringWidth(s[0].trimEnd()) === columns - 1 && s[rows - 1].trim() !== "";

/**
 * Resizes node1's window, waits for a frame of the new size for which `check` holds and
 * saves it as `two_nodes_<columns>x<rows>.txt`.
 */
async function resized(
  tmux: Tmux,
  columns: number,
  rows: number,
  what: string,
  check: (screen: string[]) => boolean,
): Promise<string[]> {
  await tmux.run("resize-window", "-t", "node1", "-x", String(columns), "-y", String(rows));
  const screen = await screenUntil(
    tmux,
    "node1",
    `node1 redraws for ${columns}x${rows} ${what}`,
    (s) => frameOf(s, columns, rows) && s.every((line) => stringWidth(line) <= columns) && check(s),
  );
  await save(`two_nodes_${columns}x${rows}.txt`, screen);
  return screen;
}

/**
 * What each node's box says auto chose, from `/v1/topology`: "cpu float32 · auto 5579
 * tok/s" (the provider, its dtype and decode speed as measured at load).
 */
async function autoLabels(apiPort: number): Promise<Map<string, string>> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/v1/topology`);
  const topology: TopologySnapshot = await response.json();
  const labels = new Map<string, string>();
  for (const node of topology.nodes) {
    const auto = node.engine?.auto;
    assert.ok(auto, `${node.id} loaded its shard with auto: ${JSON.stringify(node.engine)}`);
    const chosen = auto.candidates.find((c) => c.provider === auto.chosen && c.out === null);
    const rate = chosen?.decode_tokens_per_second ?? NaN;
    assert.ok(rate > 0, `${node.id} measured its choice: ${JSON.stringify(auto)}`);
    const figure = rate < 10 ? rate.toFixed(1) : rate.toFixed(0);
    labels.set(node.id, `${auto.chosen} ${auto.dtype} · auto ${figure} tok/s`);
  }
  return labels;
}

/** The lines of a section, from its title to the next title. */
function sectionOf(screen: string[], title: string): string[] {
  const start = screen.findIndex((line) => line.includes(`── ${title}`));
  if (start < 0) return [];
  const end = screen.findIndex((line, i) => i > start && /(^|│)── \S/.test(line));
  return screen.slice(start + 1, end < 0 ? undefined : end);
}

/**
 * Checks the failed download and the warnings as drawn: the failure with its reason and
 * no bar, neither of the two newest warnings cut on its first line, none over two lines.
 */
function assertFailureShown(screen: string[], size: string): void {
  const text = screen.join("\n");
  const downloads = sectionOf(screen, "Downloads");
  const failed = downloads.filter((line) => line.includes("llama-3.2-1b ✗ failed: "));
  assert.ok(failed.length > 0, `${size}: the failed download\n${text}`);
  for (const line of failed) assert.doesNotMatch(line, /[█░]|\d%/, `${size}: no bar`);
  assert.ok(!downloads.some((line) => line.includes("100%")), `${size}: nothing complete`);
  const warnings = sectionOf(screen, "Warnings and errors");
  const continued = (line = "") => /^ {16}\S/.test(line);
  const starts = warnings.flatMap((line, i) =>
    /^ \d\d:\d\d:\d\d (WARN |ERROR) /.test(line) ? [i] : []
  );
  // The two newest (drawn last) get two lines each; older ones take what room is left.
  const newest = new Set(starts.slice(-2));
  warnings.forEach((line, i) => {
    if (!starts.includes(i)) return;
    assert.ok(
      !newest.has(i) || !line.trimEnd().endsWith("…"),
      `${size}: a new warning cut on its first line\n${text}`,
    );
    assert.ok(
      !(continued(warnings[i + 1]) && continued(warnings[i + 2])),
      `${size}: a warning over 3 lines`,
    );
  });
}

Deno.test({
  name: hasTmux() || REQUIRED
    ? "The terminal view shows both nodes with auto's choice, a chat, a failed download, warnings, the link's round trip and the GPU bar at 120x40, 80x24 and 40x12, and restores the screen on Ctrl-C"
    : "The terminal view in tmux (skipped: tmux is not installed; CI installs it)",
  ignore: !hasTmux() && !REQUIRED,
  async fn() {
    if (!hasTmux()) throw new Error("Cannot run the terminal test: no tmux and EXO_REQUIRE_TMUX=1");
    const dir = await Deno.makeTempDir({ prefix: "exo-tui-" });
    const tmux = new Tmux();
    // The hub is a loopback port nothing listens on: a download of a registry model fails
    // for real, as on a machine that cannot reach the hub.
    const hub = `http://127.0.0.1:${freePort()}`;
    try {
      const model = await writeTestModel(dir);
      const [one, two] = endpoints("node1", "node2");
      const start = async (self: typeof one, other: typeof one) => {
        await writePeers(join(dir, `${self.id}.json`), [{
          id: other.id,
          port: other.nodePort,
          memory: 1000,
        }]);
        await tmux.start(
          self.id,
          [
            Deno.execPath(),
            "run",
            "--allow-all",
            MAIN,
            "--node-id",
            self.id,
            "--node-host",
            "127.0.0.1",
            "--node-port",
            String(self.nodePort),
            "--chatgpt-api-port",
            String(self.apiPort),
            "--discovery-module",
            "manual",
            "--discovery-config-path",
            join(dir, `${self.id}.json`),
            "--state-dir",
            join(dir, `state-${self.id}`),
            ...servingArgs(model.dir, 16),
            "--device-memory",
            "1000",
          ],
          { columns: 120, rows: 34 },
          {
            HF_HUB_OFFLINE: "0",
            HF_ENDPOINT: hub,
            HF_HUB_CACHE: join(dir, `hub-${self.id}`),
          },
        );
      };

      await start(one, two);
      await healthy(one.apiPort);
      const alone = await screenUntil(
        tmux,
        "node1",
        "node1 draws itself, node2 unreachable",
        (s) => has(s, "1 of 2 nodes connected") && has(s, "unreachable"),
      );
      await save("one_node_120x34.txt", alone);
      assert.equal(await tmux.display("node1", "#{alternate_on}"), "1");

      const second = performance.now();
      await start(two, one);
      const both = await screenUntil(
        tmux,
        "node1",
        "node1 shows node2 connected",
        (s) => has(s, "2 of 2 nodes connected") && !has(s, "unreachable") && has(s, "╭─ node2"),
      );
      const seconds = (performance.now() - second) / 1000;
      assert.ok(seconds < 15, `node2 appeared ${seconds.toFixed(1)} s after it started`);
      assert.ok(has(both, "layers 0–2") && has(both, "layers 3–5"), "each node's layer range");

      const response = await fetch(`http://127.0.0.1:${one.apiPort}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: model.dir,
          messages: [{ role: "user", content: PROMPT }],
          max_tokens: 16,
          temperature: 0,
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      await response.json();
      const figures = (s: string[]) =>
        has(s, `› ${PROMPT}`) &&
        s.some((line) => /✓ done +\d+ tok · [\d.]+ tok\/s · TTFT \d+ ms/.test(line));
      // Each node measured its candidates at load: both boxes say what auto chose, in fewer
      // words at this size.
      const bothAuto = (s: string[]) =>
        s.some((line) => (line.match(/│ (?:cpu|webgpu) float32 · auto/g) ?? []).length === 2);
      const chat = await screenUntil(
        tmux,
        "node1",
        "node1 shows the chat, its figures and auto's choice on both nodes",
        (s) => figures(s) && bothAuto(s),
      );
      await save("two_nodes_120x34.txt", chat);
      const labels = await autoLabels(one.apiPort);
      assert.deepEqual([...labels.keys()].sort(), ["node1", "node2"]);
      // node2 only ran its layers: it learns the prompt and figures from node1's status events.
      const peerView = await screenUntil(tmux, "node2", "node2 shows node1's chat", figures);
      await save("peer_view_120x34.txt", peerView);
      // The computing mark is there while a request runs only.
      await screenUntil(tmux, "node1", "node1 shows no node computing", (s) => !has(s, "◆"));

      // A download that fails: the view shows it as failed, with its reason.
      const download = await fetch(`http://127.0.0.1:${one.apiPort}/download`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "llama-3.2-1b" }),
      });
      await download.body?.cancel();
      await screenUntil(
        tmux,
        "node1",
        "node1 shows the failed download",
        (s) => has(s, "llama-3.2-1b ✗ failed: "),
      );

      const wide = await resized(
        tmux,
        120,
        40,
        "with the link's round trip and the GPU bar",
        (s) => matches(s, LINK) && matches(s, GPU_BAR) && has(s, "✗ failed: "),
      );
      assertFailureShown(wide, "120x40");
      assert.ok(has(wide, "── Activity"), "the room left shows the activity");
      assert.match(wide[1], new RegExp(`^ Web & API http://localhost:${one.apiPort}( |$)`));
      assert.ok(!wide.slice(0, 3).join("\n").includes("0.0.0.0"), "addresses a person can open");

      const small = await resized(
        tmux,
        80,
        24,
        "with the chat",
        (s) =>
          has(s, "2 of 2 nodes connected") && has(s, `› ${PROMPT}`) && header(s) === 80 &&
          has(s, "✗ failed: "),
      );
      assertFailureShown(small, "80x24");
      assert.ok(matches(small, LINK), "the link's round trip");
      assert.ok(matches(small, GPU_BAR), "the GPU bar");
      const warned = sectionOf(small, "Warnings and errors");
      assert.ok(
        warned.some((line, i) => line.includes(" WARN  ") && /^ {16}\S/.test(warned[i + 1] ?? "")),
        `a warning wrapped onto a second line:\n${small.join("\n")}`,
      );

      const tiny = await resized(tmux, 40, 12, "", () => true);
      assert.ok(matches(tiny, /^ ● node1 +this node/), "this node");
      assert.ok(
        matches(tiny, /^ ● node2 /) || matches(tiny, /… 1 more node\b|\+1 more/),
        "node2 shown or counted",
      );
      assert.ok(has(tiny, "✗ failed"), "the failed download");

      const large = await resized(
        tmux,
        200,
        50,
        "with the requests beside the nodes",
        (s) => header(s) === 200 && has(s, "── Requests") && has(s, "GPU rich"),
      );
      // Room for auto's figures whole: the choice's speed beside the best other candidate's.
      for (const [id, label] of labels) {
        const rest = large.flatMap((line) => line.split(`│ ${label}`).slice(1));
        assert.ok(
          rest.some((after) => /^(?: \((?:cpu|webgpu) (?:out|[\d.]+)\))? +│/.test(after)),
          `${id}: "${label}" whole in its box at 200x50\n${large.join("\n")}`,
        );
      }

      await tmux.run("send-keys", "-t", "node1", "C-c");
      const stopped = await screenUntil(
        tmux,
        "node1",
        "node1 exits after Ctrl-C",
        (s) => has(s, "exo-node: stopped"),
        20_000,
      );
      await displayUntil(tmux, "node1", "#{pane_dead}", "1");
      assert.ok(exitedCleanly(await tmux.display("node1", "#{pane_dead_status}")));
      assert.equal(await tmux.display("node1", "#{alternate_on}"), "0");
      assert.ok(!has(stopped, "q quit"), "the normal screen is back, without the view");
      const log = await Deno.readTextFile(join(dir, "state-node1", "exo-node.log"));
      assert.match(log, /INFO Received SIGINT, shutting down/);
      assert.match(log, /INFO Stopped/);

      // q stops node2 the same way.
      await tmux.run("send-keys", "-t", "node2", "q");
      await screenUntil(tmux, "node2", "node2 exits after q", (s) => has(s, "exo-node: stopped"));
      await displayUntil(tmux, "node2", "#{pane_dead}", "1");
      assert.equal(await tmux.display("node2", "#{alternate_on}"), "0");
      assert.ok(exitedCleanly(await tmux.display("node2", "#{pane_dead_status}")));
    } finally {
      await tmux.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
