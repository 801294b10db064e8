import { equal, match, ok } from "node:assert/strict";
import { runMain } from "./_helpers/run_main.ts";

/** Serve on free ports; the peers file path follows. */
const SERVE_ANY_PORT = [
  "--node-id",
  "x",
  "--node-port",
  "0",
  "--chatgpt-api-port",
  "0",
  "--discovery-config-path",
];

Deno.test("exo-node exits 2 with one line naming the flag for an unknown flag", async () => {
  const { code, stderr } = await runMain(["--nod-port", "5"]);
  equal(code, 2);
  equal(stderr, "exo-node: Unknown flag: --nod-port (did you mean --node-port?)\n");
});

Deno.test("exo-node exits 2 for a port out of range and for manual discovery without a file", async () => {
  const port = await runMain(["--node-port", "70000"]);
  equal(port.code, 2);
  match(port.stderr, /^exo-node: Invalid value for --node-port: 70000 is not a port/);
  equal(port.stderr.trim().split("\n").length, 1);
  const noFile = await runMain(["--discovery-module", "manual"]);
  equal(noFile.code, 2);
  match(noFile.stderr, /--discovery-config-path/);
});

Deno.test("exo-node exits 1 with a clear message when the peers file is missing", async () => {
  const { code, stderr } = await runMain([...SERVE_ANY_PORT, "/nonexistent/peers.json"]);
  equal(code, 1);
  match(stderr, /Cannot read peers file \/nonexistent\/peers\.json: no such file/);
});

Deno.test("exo-node exits 1 naming the position when the peers file is not valid JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/peers.json`,
      '{"peers": {\n  "b": {"address": "127.0.0.1:1"\n}',
    );
    const { code, stderr } = await runMain([...SERVE_ANY_PORT, `${dir}/peers.json`]);
    equal(code, 1);
    match(stderr, /Cannot parse peers file .*peers\.json at line 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exo-node exits 1 naming the compute lock file it was told to use and cannot open", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/peers.json`, '{"peers": {}}');
    const { code, stderr } = await runMain([
      ...SERVE_ANY_PORT,
      `${dir}/peers.json`,
      "--state-dir",
      `${dir}/state`,
      "--compute-lock",
      `${dir}/missing/compute.lock`,
    ]);
    equal(code, 1);
    match(stderr, /Cannot open the compute lock file .*missing\/compute\.lock/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exo-node prints its version and help", async () => {
  const version = await runMain(["--version"]);
  equal(version.code, 0);
  match(version.stdout, /^exo-node \d+\.\d+\.\d+\n$/);
  const help = await runMain(["--help"]);
  equal(help.code, 0);
  for (const flag of ["--node-id", "--discovery-config-path", "--cluster-secret"]) {
    ok(help.stdout.includes(flag), flag);
  }
});

Deno.test("exo-node exits 2 naming the absolute path of a missing secret file", async () => {
  const { code, stderr } = await runMain(["--cluster-secret-file", "no-such-secret"]);
  equal(code, 2);
  match(
    stderr,
    /^exo-node: Cannot read --cluster-secret-file \/\S*\/no-such-secret: no such file\n$/,
  );
});
