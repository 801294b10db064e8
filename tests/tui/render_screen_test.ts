import assert from "node:assert/strict";
import { renderScreen } from "../../lib/tui/render_screen.ts";
import { cellWidth, type Line, lineText } from "../../lib/tui/styled_text.ts";
import type { ScreenSize, TuiViewModel } from "../../lib/tui/view_model.ts";
import { nodes, viewModel } from "./_view_fixture.ts";

const SIZES: ScreenSize[] = [
  { columns: 80, rows: 24 },
  { columns: 200, rows: 50 },
  { columns: 120, rows: 30 },
  { columns: 100, rows: 40 },
  { columns: 40, rows: 12 },
];

function screen(model: TuiViewModel, size: ScreenSize): string[] {
  const lines = renderScreen(model, size);
  assertExact(lines, size);
  return lines.map(lineText);
}

/** Every line exactly the terminal's width, exactly its height in lines. */
function assertExact(lines: Line[], size: ScreenSize): void {
  assert.equal(lines.length, size.rows, `${size.columns}x${size.rows}: line count`);
  lines.forEach((line, i) =>
    assert.equal(
      cellWidth(lineText(line)),
      size.columns,
      `${size.columns}x${size.rows} line ${i}: ${JSON.stringify(lineText(line))}`,
    )
  );
}

for (const count of [1, 2, 3, 8]) {
  for (const size of SIZES) {
    Deno.test(`renderScreen fills ${size.columns}x${size.rows} exactly with ${count} node(s)`, () => {
      const text = screen(viewModel(count), size).join("\n");
      assert.match(text, /exo-node/);
      if (size.columns >= 80) {
        for (const node of nodes(count)) assert.ok(text.includes(node.id), `${node.id} shown`);
        assert.match(text, /http:\/\/192\.168\.2\.2:52415/);
        assert.match(text, /28\.4 tok\/s/);
        assert.match(text, /TTFT 182 ms/);
      }
    });
  }
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
  assert.match(row("node2"), /◆ computing/);
  assert.match(row("node8"), /○ node8 +unreachable +no layers/);
  assert.ok(text.some((line) => line.startsWith("Cluster 7 nodes · 176 GB · 54.5 TFLOPS")));
});

Deno.test("renderScreen puts the ring beside the requests on a wide terminal", () => {
  const text = screen(viewModel(3), { columns: 200, rows: 50 });
  const titles = text.find((line) => line.includes("── Nodes") && line.includes("── Requests"));
  assert.ok(titles, "Nodes and Requests side by side");
  assert.ok(text.some((line) => line.includes("╭─ node3") || line.includes("node3 ─")));
  assert.ok(text.some((line) => line.includes("unreachable")));
  assert.ok(text.some((line) => line.includes("GPU poor") && line.includes("GPU rich")));
});

Deno.test("renderScreen fills the wide layout's spare room with the node's activity, never on 80x24", () => {
  const wide = screen(viewModel(2), { columns: 200, rows: 50 });
  const title = wide.findIndex((line) => line.includes("── Activity"));
  assert.ok(title > 0, "an Activity pane under the nodes");
  assert.ok(wide.slice(title).some((line) => line.includes("Peer node2 connected")));
  assert.ok(wide.slice(title).some((line) => line.includes("loaded layers 8..15")));
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
  });
  for (const size of SIZES) {
    const text = screen(model, size).join("\n");
    if (size.columns >= 80) assert.ok(text.includes("nnnnnnnnnn"), "ids shown, cut");
  }
  for (const columns of [79, 81, 97, 111, 157]) screen(model, { columns, rows: 33 });
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
  assert.match(text, /No requests yet\. Chat at http:\/\/192\.168\.2\.2:52415/);
  assert.doesNotMatch(text, /Downloads/);
  assert.match(text, /No warnings or errors/);
});

Deno.test("renderScreen shows a download's bar, sizes in GB, speed and ETA", () => {
  const text = screen(viewModel(2), { columns: 80, rows: 24 });
  const line = text.find((l) => l.includes("node2 llama-3.2-1b")) ?? "";
  assert.match(line, /█+░+ +48% 1\.1 GB\/2\.3 GB 12 MB\/s · ETA 1m43s/);
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
