// `deno task start` and the README's `npx -y deno@2.9.6 task start`, run as a user runs
// them: from a folder of their own, stopped by a signal to the process they started.
import { equal, match, ok } from "node:assert/strict";
import { withTempDir } from "../_helpers/temp_dir.ts";
import {
  DENO_TASK,
  NPX,
  startNode,
  stopAndCheck,
  type Way,
  writeEmptyPeers,
} from "./_started_node.ts";

Deno.test("deno task start from another folder takes relative paths from there", async () => {
  await withTempDir(async (dir) => {
    await writeEmptyPeers(dir);
    const node = startNode(DENO_TASK, dir, ["--state-dir", "state", "--device-memory", "24105"]);
    try {
      await node.ready(60_000);
      // No --node-id: the node made its id in the state folder given relative to `dir`.
      match(await Deno.readTextFile(`${dir}/state/node_id`), /^[\w.-]+\n?$/);
      ok(node.logged(`HTTP API on http://localhost:${node.apiPort} (node `), node.logs.join("\n"));
      ok(node.logged(", 23.5 GB, "), node.logs.join("\n"));
      ok(!node.logged("0.0.0.0:"), node.logs.join("\n"));
    } finally {
      await stopAndCheck(node, "SIGTERM", "top", 0);
    }
  });
});

Deno.test("deno task start names the absolute path of a missing relative peers file", async () => {
  await withTempDir(async (dir) => {
    const node = startNode(DENO_TASK, dir, ["--state-dir", "state"]);
    const status = await node.status;
    await node.drained();
    equal(status.code, 1);
    ok(
      node.logged(`Cannot read peers file ${dir}/peers.json: no such file`),
      node.logs.join("\n"),
    );
  });
});

/** Each way of starting, the signal, where it goes and the exit status of the process. */
const STOPS: [string, Way, Deno.Signal, "top" | "group", number][] = [
  ["deno task start", DENO_TASK, "SIGINT", "top", 0],
  // macOS's /bin/sh is bash, which execs the command npm hands it: npx's signal reaches deno.
  [
    "npx with bash as npm's shell",
    { ...NPX, env: { npm_config_script_shell: "/bin/bash" } },
    "SIGTERM",
    "top",
    0,
  ],
  [
    "npx with bash as npm's shell",
    { ...NPX, env: { npm_config_script_shell: "/bin/bash" } },
    "SIGINT",
    "top",
    0,
  ],
  // Ctrl-C signals the terminal's whole foreground group; npm then exits 128 + 2.
  ["npx (Ctrl-C)", NPX, "SIGINT", "group", 130],
];

for (const [name, way, signal, target, code] of STOPS) {
  Deno.test(`${name} stops the node cleanly on ${signal} to the ${target === "top" ? "process started" : "process group"}`, async () => {
    await withTempDir(async (dir) => {
      await writeEmptyPeers(dir);
      const node = startNode(way, dir, ["--node-id", "signalled", "--state-dir", "state"]);
      try {
        await node.ready(60_000);
      } finally {
        await stopAndCheck(node, signal, target, code);
      }
    });
  });
}
