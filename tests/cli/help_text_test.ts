import { equal, fail, ok } from "node:assert/strict";
import { helpText, VERSION } from "../../lib/cli/mod.ts";
import { FLAGS } from "../../lib/cli/_flag_table.ts";

// Written out rather than read from the table, so a flag dropped from the table fails here.
const DOCUMENTED = [
  "--node-id",
  "--node-host",
  "--node-port",
  "--cluster-secret",
  "--cluster-secret-file",
  "--[no-]disable-tui",
  "--discovery-module",
  "--discovery-config-path",
  "--discovery-timeout",
  "--listen-port",
  "--broadcast-port",
  "--broadcast-interval",
  "--interface-type-filter",
  "--wait-for-peers",
  "--node-id-filter",
  "--chatgpt-api-port",
  "--chatgpt-api-response-timeout",
  "--max-generate-tokens",
  "--api-origins",
  "--api-hosts",
  "--api-key",
  "--api-key-file",
  "--default-model",
  "--inference-engine",
  "--models-seed-dir",
  "--max-parallel-downloads",
  "--[no-]offline",
  "--prompt",
  "--execution-provider",
  "--[no-]reprobe",
  "--dtype",
  "--cache-dir",
  "--threads",
  "--compute-lock",
  "--device-memory",
  "--device-chip",
  "--device-tflops",
  "--log-level",
  "--state-dir",
  "-h, --help",
  "-v, --version",
];

function lineOf(text: string, usage: string): string {
  const line = text.split("\n").find((l) => l.startsWith(`  ${usage} `) || l === `  ${usage}`);
  if (line === undefined) fail(`help has no line for ${usage}`);
  return line;
}

Deno.test("helpText documents every flag of the table and of exo's list", () => {
  const text = helpText();
  for (const usage of DOCUMENTED) lineOf(text, usage);
  for (const flag of FLAGS) {
    const negatable = `--[no-]${flag.name.slice(2)}`;
    ok(text.includes(flag.name) || text.includes(negatable), `help lacks ${flag.name}`);
  }
  equal(FLAGS.length, DOCUMENTED.length);
});

Deno.test("helpText shows each default beside its flag", () => {
  const text = helpText();
  ok(lineOf(text, "--node-port PORT").endsWith("(default: 50051)"));
  ok(lineOf(text, "--node-host HOST").endsWith("(default: 0.0.0.0)"));
  ok(lineOf(text, "--[no-]disable-tui").endsWith("(default: off)"));
  ok(text.includes("(default: 900)"));
  ok(text.includes("(default: $EXO_NODE_HOME, else $HOME/.exo-node)"));
  ok(text.includes("(default: $EXO_CLUSTER_SECRET, else none)"));
  ok(text.includes("(default: $EXO_API_KEY, else none)"));
  ok(text.includes("(default: q4 (float16 on coreml))"));
  ok(text.includes("(default: auto)"));
  ok(text.includes("(default: <state dir>/shards)"));
  ok(lineOf(text, "--listen-port PORT").endsWith("(default: 5678)"));
  ok(lineOf(text, "--broadcast-port PORT").endsWith("(default: 5678)"));
  ok(text.includes("Seconds between two announcements (udp) (default: 2.5)"));
  ok(text.includes("(default: manual with --discovery-config-path, else udp)"));
  ok(text.includes("(default: 10 with udp, 30 with manual)"));
});

Deno.test("helpText shows usage lines and the environment variables", () => {
  const text = helpText();
  ok(text.startsWith(`exo-node ${VERSION}:`));
  ok(text.includes("exo-node run <model> [flags]"));
  for (const name of ["EXO_CLUSTER_SECRET", "EXO_API_KEY", "EXO_NODE_HOME", "HOME", "INIT_CWD"]) {
    ok(text.includes(`\n  ${name} `), `help lacks ${name}`);
  }
});

Deno.test("helpText keeps every line within 100 columns", () => {
  for (const line of helpText().split("\n")) ok(line.length <= 100, `too wide: ${line}`);
});
