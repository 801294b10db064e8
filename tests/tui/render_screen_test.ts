import assert from "node:assert/strict";
import { renderNodes } from "../../lib/tui/render_nodes.ts";
import { renderScreen } from "../../lib/tui/render_screen.ts";
import { cellWidth, type Line, lineText } from "../../lib/tui/styled_text.ts";
import type { ScreenSize, TuiViewModel } from "../../lib/tui/view_model.ts";
import { AUTO_WEBGPU, downloads, failedDownload, nodes, viewModel } from "./_view_fixture.ts";

/** The sizes every layout test runs at, from the smallest laid out to a large one. */
const SIZES: ScreenSize[] = [
  { columns: 40, rows: 12 },
  { columns: 80, rows: 24 },
  { columns: 100, rows: 30 },
  { columns: 120, rows: 40 },
  { columns: 160, rows: 50 },
  { columns: 120, rows: 30 },
  { columns: 100, rows: 40 },
  { columns: 200, rows: 50 },
];
/** Common terminal sizes with room for everything a cluster of a few nodes shows. */
const COMMON = SIZES.filter((size) => size.columns >= 80 && size.rows >= 24);
const name = (size: ScreenSize) => `${size.columns}x${size.rows}`;

function screen(model: TuiViewModel, size: ScreenSize): string[] {
  const lines = renderScreen(model, size);
  assertExact(lines, size);
  return lines.map(lineText);
}

/** Every line exactly the terminal's width, exactly its height in lines. */
function assertExact(lines: Line[], size: ScreenSize): void {
  assert.equal(lines.length, size.rows, `${name(size)}: line count`);
  lines.forEach((line, i) =>
    assert.equal(
      cellWidth(lineText(line)),
      size.columns,
      `${name(size)} line ${i}: ${JSON.stringify(lineText(line))}`,
    )
  );
}

const REFUSED = "[transport] Cannot connect to node2 at 127.0.0.1:22085: Connection refused " +
  "(os error 111) (retrying)";
const HUB_DOWN = "Cannot reach huggingface.co for llama-3.2-1b: connection refused. Start " +
  "with --offline and a local copy, or set HF_ENDPOINT to a mirror";

for (const count of [1, 2, 3, 8, 12]) {
  for (const size of SIZES) {
    Deno.test(`renderScreen fills ${name(size)} exactly with ${count} node(s)`, () => {
      const text = screen(viewModel(count), size).join("\n");
      assert.match(text, /exo-node/);
      assert.match(text, /http:\/\/localhost:52415/);
      if (size.columns >= 80 && count <= 8) {
        for (const node of nodes(count)) assert.ok(text.includes(node.id), `${node.id} shown`);
        assert.match(text, /28\.4 tok\/s/);
        assert.match(text, /TTFT 182 ms/);
      }
    });
  }
}

for (const count of [1, 2, 3, 5, 8, 12]) {
  Deno.test(`renderScreen counts exactly the nodes it leaves out, with ${count} node(s) at every size`, () => {
    for (const size of SIZES) {
      const text = screen(viewModel(count), size).join("\n");
      const shown = new Set(
        [...text.matchAll(/(?:[●○] |╭─ )(node\d+)\b/g)].map((match) => match[1]),
      );
      const counts = [...text.matchAll(/… (\d+) more nodes?|\+(\d+) more/g)];
      assert.ok(counts.length <= 1, `${name(size)}: one count at most`);
      const hidden = counts.length === 0 ? 0 : Number(counts[0][1] ?? counts[0][2]);
      assert.ok(shown.has("node1"), `${name(size)}: this node shown\n${text}`);
      assert.equal(shown.size + hidden, count, `${name(size)}: shown + counted\n${text}`);
    }
  });
}

/** Every way the fixture's engines may be written: whole labels, never cut within one. */
const ENGINE_LABELS = [
  "webgpu q4 · auto 41 tok/s (cpu 28)",
  "webgpu q4 · auto 41 tok/s",
  "webgpu q4 · auto",
  "webgpu q4",
  "cpu q4 · auto 13 tok/s (webgpu out)",
  "cpu q4 · auto 13 tok/s",
  "cpu q4 · auto",
  "cpu q4",
];
/** An engine label in a box ("│ cpu q4 │") or a node's line (two spaces each side). */
const ENGINE_CELL = /(?:│ | {2})((?:webgpu|cpu) q4(?: ·[^│]*?)?)(?: +│| {2}|\s*$)/g;

for (const count of [1, 2, 3, 8, 12]) {
  Deno.test(`renderScreen writes each engine whole or in fewer words at every size, ${count} node(s)`, () => {
    const seen = new Set<string>();
    for (const size of SIZES) {
      const text = screen(viewModel(count), size);
      for (const line of text) {
        for (const match of line.matchAll(ENGINE_CELL)) {
          const label = match[1].trimEnd();
          assert.ok(ENGINE_LABELS.includes(label), `${name(size)}: "${label}" in\n${line}`);
          seen.add(`${name(size)} ${label}`);
        }
      }
    }
    if (count <= 2) {
      assert.ok(seen.has("100x30 webgpu q4 · auto 41 tok/s (cpu 28)"), [...seen].join("\n"));
    }
    if (count === 2) {
      assert.ok(seen.has("80x24 webgpu q4 · auto 41 tok/s"), "in fewer words beside node2");
      assert.ok(seen.has("200x50 cpu q4 · auto 13 tok/s (webgpu out)"));
    }
    if (count === 12) assert.ok(seen.has("200x50 webgpu q4 · auto 41 tok/s"), "in the list");
    assert.ok(seen.size > 0, "shown at some size");
    assert.ok(![...seen].some((label) => label.startsWith("40x12")), "none on 40x12");
  });
}

Deno.test("renderScreen gives the engines' row its line after the rest has its own", () => {
  const text = screen(viewModel(2), { columns: 80, rows: 24 });
  const box = text.findIndex((line) => line.includes("╭─ node1 · this node"));
  assert.match(text[box + 4], /│ webgpu q4 · auto 41 tok\/s +│ .* │ cpu q4 · auto 13 tok\/s +│/);
  // Six downloads and four warnings: the boxes keep their other rows, not the engine's.
  const failed = ["a", "b", "c", "d", "e"].map((model) => ({
    ...failedDownload("no space left on device"),
    model,
  }));
  const busy = viewModel(2, {
    downloads: [...downloads(), ...failed],
    logs: Array.from({ length: 4 }, (_, i) => ({
      time: `12:00:0${i}`,
      level: "warn" as const,
      text: `Warning ${i}`,
    })),
  });
  const tight = screen(busy, { columns: 80, rows: 24 });
  const at = tight.findIndex((line) => line.includes("╭─ node1 · this node"));
  assert.ok(tight[at + 3].includes("layers 0–7"), tight.join("\n"));
  assert.ok(tight[at + 4].startsWith("╰"), "no engine row");
  assert.ok(!tight.join("\n").includes("auto"), "the engines are the first to go");
  assert.ok(tight.some((line) => line.startsWith(" ▶ running 37 tok")), "the newest request");
  assert.ok(tight.some((line) => line.includes("Warning 3")), "the newest warning");
});

Deno.test("renderScreen shows a shard that fell back in yellow, with the provider it wanted", () => {
  const [self, peer] = nodes(2);
  const fellBack = { ...AUTO_WEBGPU, provider: "cpu", fellBackFrom: "webgpu" };
  const model = viewModel(2, { nodes: [{ ...self, engine: fellBack }, peer] });
  const lines = renderScreen(model, { columns: 100, rows: 30 });
  const line = lines.find((l) => lineText(l).includes("cpu q4 · webgpu unavailable"));
  assert.ok(line, lines.map(lineText).join("\n"));
  assert.ok(
    line.some((span) => span.text.includes("webgpu unavailable") && span.style?.fg === "yellow"),
  );
  assert.ok(lines.some((l) => lineText(l).includes("cpu q4 · auto 13 tok/s (webgpu out)")));
});

Deno.test("renderScreen at 40x12 shows this node, a count of the others and the newest of each part", () => {
  const model = viewModel(8, {
    downloads: [...downloads(), failedDownload(HUB_DOWN)],
    logs: [{ time: "12:00:01", level: "warn", text: REFUSED }],
  });
  const text = screen(model, { columns: 40, rows: 12 });
  assert.ok(text.some((line) => /^ ● node1 +this node/.test(line)), text.join("\n"));
  assert.ok(text.some((line) => line.startsWith("  … 7 more nodes (1 unreachable)")));
  assert.ok(text.some((line) => line.startsWith(" Web & API http://localhost:52415")));
  assert.ok(text.some((line) => line.startsWith(" ▶ running 37 tok")), "the newest request");
  assert.ok(text.some((line) => line.includes("node1 llama-3.2-1b ✗ failed: Cannot")));
  assert.ok(text.some((line) => line.includes("1 failed · 1 running")), "both downloads counted");
  assert.ok(text.some((line) => line.startsWith(" WARN  [transport] Cannot connect")));
});

Deno.test("renderNodes puts the count on this node's line when it has one line only", () => {
  const [line] = renderNodes(nodes(8), 40, 1).map(lineText);
  assert.match(line, /^ ● node1 +this node .* \+7 more $/);
  assert.equal(cellWidth(line), 40);
  const two = renderNodes(nodes(8), 60, 2).map(lineText);
  assert.match(two[0], /● node1/);
  assert.match(two[1], /… 7 more nodes \(1 unreachable\)/);
});

Deno.test("renderScreen wraps a warning over two lines, then cuts it with an ellipsis", () => {
  // Longer than two lines of the widest screen.
  const long = `${REFUSED}; ${
    "the peer may not be started yet or its port is blocked; ".repeat(8)
  }`;
  const model = viewModel(2, {
    logs: [{ time: "12:00:01", level: "warn", text: REFUSED }, {
      time: "12:00:02",
      level: "error",
      text: long,
    }],
  });
  for (const size of COMMON) {
    const text = screen(model, size);
    const first = text.findIndex((line) => line.includes("WARN  [transport]"));
    assert.ok(first > 0, `${name(size)}: the warning`);
    const warning = text.slice(first, first + 2).join(" ").replace(/\s+/g, " ");
    assert.ok(warning.includes("Connection refused (os error 111) (retrying)"), warning);
    const error = text.findIndex((line) => line.includes("ERROR [transport]"));
    assert.match(text[error + 1], /^ {16}\S/, `${name(size)}: indented under the text`);
    assert.match(text[error + 1], /…\s*$/, `${name(size)}: cut after two lines`);
    assert.doesNotMatch(text[error + 2] ?? "", /^ {16}\S/, "never a third line");
  }
  const narrow = screen(model, { columns: 80, rows: 24 });
  const at = narrow.findIndex((line) => line.includes("WARN  [transport]"));
  assert.match(narrow[at + 1], /^ {16}Connection refused \(os error 111\) \(retrying\) +$/);
});

for (const count of [2, 3, 8]) {
  Deno.test(`renderScreen shows the GPU bar and each link's round trip at common sizes, ${count} nodes`, () => {
    for (const size of COMMON) {
      const text = screen(viewModel(count), size);
      const all = text.join("\n");
      assert.ok(
        text.some((line) => /GPU poor █*░* GPU rich/.test(line)),
        `${name(size)}: GPU bar\n${all}`,
      );
      for (const node of nodes(count).filter((n) => n.alive && n.rttMs !== null)) {
        assert.ok(all.includes(`${node.rttMs!.toFixed(2)} ms`), `${name(size)}: ${node.id} RTT`);
      }
      if (count === 2) {
        assert.ok(text.some((line) => /◀─+ 1\.42 ms ─+▶/.test(line)), `${name(size)}: link`);
      }
    }
  });
}

Deno.test("renderScreen draws two nodes as a ring of boxes on 80x24", () => {
  const text = screen(viewModel(2), { columns: 80, rows: 24 });
  const top = text.find((line) => line.includes("╭─ node1 · this node"));
  assert.ok(top, text.join("\n"));
  assert.ok(top.includes("╭─ node2 ◆"), "node2 computes: marked in its title");
  assert.ok(text.some((line) => line.includes("layers 0–7") && line.includes("layers 8–15")));
  assert.ok(text.some((line) => /◀─+ 1\.42 ms ─+▶/.test(line)), "the link and its round trip");
  assert.ok(text.some((line) => line.includes("32.0 GB · 13.5 TFLOPS")));
});

Deno.test("renderScreen lists eight nodes one per line on 80x24, unreachable and computing marked", () => {
  const text = screen(viewModel(8), { columns: 80, rows: 24 });
  const row = (id: string) =>
    text.find((line) => line.startsWith(` ● ${id} `) || line.startsWith(` ○ ${id} `)) ?? "";
  assert.match(row("node1"), /● node1 +this node +layers 0–1 +32\.0 GB +13\.5 TFLOPS/);
  assert.match(row("node2"), /◆ computing .* 1\.42 ms/);
  assert.match(row("node8"), /○ node8 +unreachable +no layers/);
  assert.ok(text.some((line) => line.startsWith("Cluster 7 nodes · 176 GB · 54.5 TFLOPS")));
});

Deno.test("renderScreen shows memory in GB with one decimal below 100 GB, none above, the total too", () => {
  const [small, big] = nodes(2);
  const model = viewModel(2, {
    nodes: [{ ...small, memoryMb: 24105 }, { ...big, memoryMb: 196608 }],
    downloads: [],
  });
  for (const size of [{ columns: 80, rows: 24 }, { columns: 120, rows: 40 }]) {
    const text = screen(model, size).join("\n");
    assert.ok(text.includes("23.5 GB · 13.5 TFLOPS"), text);
    assert.ok(text.includes("192 GB · 0.17 TFLOPS"));
    assert.ok(text.includes("Cluster 2 nodes · 216 GB · 13.7 TFLOPS"), "220713 MB in all");
    assert.doesNotMatch(text, /\d MB\b/);
  }
  const list = screen(viewModel(3, { nodes: [{ ...small, memoryMb: 24105 }, big, big] }), {
    columns: 80,
    rows: 24,
  });
  assert.ok(list.some((line) => /● node1 .* 23\.5 GB/.test(line)));
});

Deno.test("renderScreen puts the ring beside the requests on a wide terminal", () => {
  const text = screen(viewModel(3), { columns: 200, rows: 50 });
  const titles = text.find((line) => line.includes("── Nodes") && line.includes("── Requests"));
  assert.ok(titles, "Nodes and Requests side by side");
  assert.ok(text.some((line) => line.includes("╭─ node3") || line.includes("node3 ─")));
  assert.ok(text.some((line) => line.includes("unreachable")));
  assert.ok(text.some((line) => line.includes("GPU poor") && line.includes("GPU rich")));
});

Deno.test("renderScreen fills spare room with the node's activity, not when the rest needs it", () => {
  for (const size of [{ columns: 200, rows: 50 }, { columns: 100, rows: 30 }]) {
    const text = screen(viewModel(2), size);
    const title = text.findIndex((line) => line.includes("── Activity"));
    assert.ok(title > 0, `${name(size)}: an Activity pane`);
    assert.ok(text.slice(title).some((line) => line.includes("Peer node2 connected")));
    assert.ok(text.slice(title).some((line) => line.includes("loaded layers 8..15")));
  }
  assert.ok(
    screen(viewModel(2, { activity: [] }), { columns: 200, rows: 50 }).some((line) =>
      line.includes("Nothing yet.")
    ),
  );
  const narrow = screen(viewModel(2), { columns: 80, rows: 24 });
  assert.ok(!narrow.some((line) => line.includes("Activity")), "no room on 80x24");
});

Deno.test("renderScreen keeps every line exact with 64-character ids and wide characters", () => {
  const long = (i: number) => `${"n".repeat(60)}-${String(i).padStart(3, "0")}`;
  const model = viewModel(3, {
    nodeId: long(0),
    nodes: nodes(3, long),
    requests: [{
      ...viewModel(1).requests[0],
      origin: long(0),
      prompt: "東京の天気は？ 🌤️ Réponds en français, s'il te plaît",
      output: "今日の東京は晴れです。☀️👍 ".repeat(20),
    }],
    downloads: [failedDownload("東京の天気は？ 🌤️ ".repeat(20)), ...downloads()],
    logs: [{ time: "12:00:01", level: "warn", text: "今日の東京は晴れです。☀️👍 ".repeat(20) }],
  });
  for (const size of SIZES) {
    const text = screen(model, size).join("\n");
    if (size.columns >= 80) assert.ok(text.includes("nnnnnnnnnn"), "ids shown, cut");
  }
  for (const columns of [40, 41, 79, 81, 97, 111, 157]) {
    for (const rows of [12, 13, 23, 33]) screen(model, { columns, rows });
  }
});

Deno.test("renderScreen shows a peer's control characters as spaces, never as escapes", () => {
  const model = viewModel(2, {
    requests: [{
      ...viewModel(1).requests[0],
      prompt: "a\x1b[2Jb\r\nc\x07",
      output: "x\x1b]0;title\x07y",
    }],
  });
  const text = screen(model, { columns: 80, rows: 24 }).join("\n");
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f]/);
  assert.ok(text.includes("a [2Jb c"));
});

Deno.test("renderScreen says when there are no requests and no downloads yet", () => {
  const text = screen(viewModel(1, { requests: [], downloads: [], logs: [] }), {
    columns: 80,
    rows: 24,
  }).join("\n");
  assert.match(text, /No requests yet\. Chat at http:\/\/localhost:52415/);
  assert.doesNotMatch(text, /Downloads/);
  assert.match(text, /No warnings or errors/);
});

Deno.test("renderScreen shows a download's bar, sizes in GB, speed and ETA", () => {
  const text = screen(viewModel(2), { columns: 80, rows: 24 });
  const line = text.find((l) => l.includes("node2 llama-3.2-1b")) ?? "";
  assert.match(line, /█+░+ +48% 1\.1 GB\/2\.3 GB 12 MB\/s · ETA 1m43s/);
});

Deno.test("renderScreen shows a failed download as failed with its reason, never as a bar", () => {
  const partial = { ...failedDownload("Cannot write the file: no space left on device") };
  Object.assign(partial, { nodeId: "node2", bytes: 1_200_000_000, totalBytes: 2_470_000_000 });
  const model = viewModel(2, { downloads: [...downloads(), failedDownload(HUB_DOWN), partial] });
  for (const size of SIZES) {
    const text = screen(model, size);
    const at = text.findIndex((line) => line.includes("node1 llama-3.2-1b ✗ failed: Cannot"));
    assert.ok(at > 0, `${name(size)}: the failure first\n${text.join("\n")}`);
    assert.doesNotMatch(text[at], /[█░]|\d%|0 MB/, `${name(size)}: no bar, no 0/0`);
    assert.ok(text.some((line) => line.includes("── Downloads") && line.includes("2 failed")));
    assert.ok(!text.join("\n").includes("100%"), `${name(size)}: nothing drawn as complete`);
  }
  const text = screen(model, { columns: 80, rows: 24 });
  const at = text.findIndex((line) => line.includes("✗ failed: Cannot reach"));
  assert.match(text[at + 1], /^ {3}\S/, "the reason goes on under it");
  assert.ok(text.some((line) => line.includes("node2 llama-3.2-1b ✗ failed at 48%: Cannot write")));
});

Deno.test("renderScreen shows a download with nothing to fetch as done, without sizes", () => {
  const done = { ...downloads()[0], bytes: 0, totalBytes: 0, eta: 0, status: "done" as const };
  const text = screen(viewModel(2, { downloads: [{ ...done, done: true }] }), {
    columns: 80,
    rows: 24,
  });
  const line = text.find((l) => l.includes("node2 llama-3.2-1b")) ?? "";
  assert.match(line, /^ node2 llama-3\.2-1b ✓ done +$/);
});

Deno.test("renderScreen prints the addresses whole, localhost first, LAN ones when they fit", () => {
  const urls = ["http://192.168.2.2:52415", "http://10.0.0.5:52415", "http://localhost:52415"];
  const expected: Record<string, string[]> = {
    "40x12": ["http://localhost:52415"],
    "80x24": ["http://localhost:52415", "http://192.168.2.2:52415"],
    "120x40": urls.toSorted((a, b) =>
      Number(b.includes("localhost")) - Number(a.includes("localhost"))
    ),
  };
  for (const size of SIZES) {
    const text = screen(viewModel(2, { apiUrls: urls, requests: [] }), size);
    const header = text[1];
    const shown = [...header.matchAll(/https?:\/\/\S+/g)].map((match) => match[0]);
    assert.equal(shown[0], "http://localhost:52415", `${name(size)}: localhost first`);
    for (const url of shown) assert.ok(urls.includes(url), `${name(size)}: ${url} whole`);
    if (expected[name(size)]) assert.deepEqual(shown, expected[name(size)], name(size));
    if (size.columns >= 80) {
      assert.ok(
        text.some((line) => line.includes("No requests yet. Chat at http://localhost:52415")),
      );
    }
  }
});

Deno.test("renderScreen names the model of the split, with its layers when known", () => {
  const known = screen(viewModel(2), { columns: 80, rows: 24 });
  assert.ok(known[3].includes(" llama-3.2-1b · 16 layers ─"), known[3]);
  const loaded = viewModel(2, { model: { id: "/models/tiny-llama/", numLayers: null } });
  const title = screen(loaded, { columns: 80, rows: 24 })[3];
  assert.ok(title.includes(" tiny-llama ─"), title);
  assert.doesNotMatch(title, /null/);
});

Deno.test("renderScreen asks for a bigger terminal below 40x12", () => {
  const text = screen(viewModel(2), { columns: 39, rows: 11 });
  assert.match(text.join("\n"), /Terminal too small \(40×12 at least\)/);
  assert.deepEqual(renderScreen(viewModel(2), { columns: 0, rows: 0 }), []);
});

Deno.test("renderScreen is pure: the same model and size give the same lines", () => {
  const model = viewModel(3);
  assert.deepEqual(
    renderScreen(model, { columns: 120, rows: 30 }),
    renderScreen(structuredClone(model), { columns: 120, rows: 30 }),
  );
});
