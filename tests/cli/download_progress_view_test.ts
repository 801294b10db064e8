import assert from "node:assert/strict";
import {
  DownloadProgressView,
  formatDownloadLine,
  formatEta,
} from "../../lib/cli/download_progress_view.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";
import { Logger } from "../../lib/log/mod.ts";

const MIB = 2 ** 20;

function event(fields: Partial<DownloadEvent>): DownloadEvent {
  return {
    event: "download",
    nodeId: "a",
    model: "org/m",
    repo: "org/m",
    file: "w.safetensors",
    bytes: 2 * MIB,
    totalBytes: 4 * MIB,
    speed: MIB,
    eta: 2,
    status: "downloading",
    done: false,
    files: [],
    at: 0,
    ...fields,
    ...(fields.done ? { status: "done" } : {}),
    ...(fields.error !== undefined ? { status: "failed", done: false, eta: null } : {}),
  } as DownloadEvent;
}

Deno.test("formatDownloadLine shows a bar, percent, bytes, speed, ETA and the file", () => {
  assert.equal(
    formatDownloadLine(event({}), 10),
    "org/m [#####.....]  50% 2 MB/4 MB 1 MB/s ETA 2s w.safetensors",
  );
  assert.equal(
    formatDownloadLine(event({ bytes: 4 * MIB, done: true }), 4),
    "org/m [####] 100% 4 MB/4 MB done",
  );
  assert.equal(
    formatDownloadLine(event({ error: "boom" })),
    "org/m failed after 2 MB of 4 MB: boom",
  );
  // A download that failed before it knew its files is not drawn as a full bar.
  assert.equal(
    formatDownloadLine(event({ bytes: 0, totalBytes: 0, error: "Cannot reach the hub" })),
    "org/m failed: Cannot reach the hub",
  );
  assert.equal(
    formatDownloadLine(event({ bytes: 4 * MIB - 1000 }), 10),
    "org/m [#########.]  99% 4 MB/4 MB 1 MB/s ETA 2s w.safetensors",
    "not full before it is done",
  );
  assert.equal(
    formatDownloadLine(event({ bytes: 0, totalBytes: 0, file: "", eta: null }), 4),
    "org/m [....]    ? 0 B/? 1 MB/s ETA ?",
    "sizes not known yet",
  );
  assert.equal(formatEta(null), "?");
  assert.equal(formatEta(185), "3m05s");
  assert.equal(formatEta(3720), "1h02m");
});

Deno.test("DownloadProgressView redraws one line on a terminal and logs sparsely otherwise", () => {
  const written: string[] = [];
  const terminal = new DownloadProgressView({
    terminal: true,
    write: (text) => written.push(text),
    logger: new Logger("info", () => {}),
  });
  terminal.show(event({}));
  terminal.show(event({ bytes: 4 * MIB, done: true }));
  assert.ok(written[0].startsWith("\r\x1b[2Korg/m ["));
  assert.ok(written[1].endsWith("done\n"));

  const lines: string[] = [];
  const plain = new DownloadProgressView({
    terminal: false,
    write: () => assert.fail("no raw writes without a terminal"),
    logger: new Logger("info", (line) => lines.push(line)),
  });
  plain.show(event({ at: 0 }));
  plain.show(event({ at: 1000 }));
  plain.show(event({ at: 6000 }));
  plain.show(event({ at: 6100, done: true }));
  assert.equal(lines.length, 3);
});
