import { equal, fail, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "../_helpers/free_port.ts";
import { NodeProcess } from "../_helpers/node_process.ts";
import { processGroup, signalGroup } from "../_helpers/process_group.ts";

/** The repository's deno.json, whose `start` task the tests run. */
export const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** The Deno the README's first command runs through npx. */
export const NPX_DENO = "deno@2.9.6";

/** How a user starts a node: the command and its arguments before the node's flags. */
export interface Way {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** `deno task start`, run from another folder (deno.json named with --config). */
export const DENO_TASK: Way = {
  command: Deno.execPath(),
  args: ["task", "--config", CONFIG, "start"],
};

/** `npx -y deno@2.9.6 task start`, npm's script shell left as the machine has it. */
export const NPX: Way = {
  command: "npx",
  args: ["-y", NPX_DENO, "task", "--config", CONFIG, "start"],
};

// The variables a started node needs from the test's environment; everything else (INIT_CWD
// from `deno task test` above all) stays out, as in a user's fresh shell.
const PASSED = ["PATH", "HOME", "TMPDIR", "DENO_DIR", "XDG_CACHE_HOME", "DENO_TLS_CA_STORE"];

/**
 * Starts a node the way `way` does, in `dir` (which holds an empty peers.json), in a
 * process group of its own, on a free API port and without UDP discovery.
 */
export function startNode(way: Way, dir: string, flags: string[] = []): NodeProcess {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    HF_HUB_OFFLINE: "1",
    HF_ENDPOINT: "http://127.0.0.1:9",
    ...way.env,
  };
  for (const name of PASSED) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const apiPort = freePort();
  return NodeProcess.spawnCommand({
    id: "started",
    apiPort,
    nodePort: 0,
    command: way.command,
    args: [...way.args, ...loopbackFlags(apiPort, "peers.json"), "--disable-tui", ...flags],
    cwd: dir,
    env,
    detached: true,
  });
}

/** The process's status, or a failure (after killing its group) when it takes longer. */
async function withinTime(node: NodeProcess, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), ms));
  const status = await Promise.race([node.status, late]);
  clearTimeout(timer);
  if (status !== "late") return status;
  signalGroup(node.pid, "SIGKILL");
  await node.status;
  await node.drained();
  return fail(`The node did not stop within ${ms} ms:\n${node.logs.join("\n")}`);
}

/** Writes the empty peers file `startNode` names. */
export async function writeEmptyPeers(dir: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/peers.json`, '{"peers": {}}');
}

/** Whether nothing listens on `port` of 127.0.0.1 any more. */
async function portClosed(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return true;
    throw error;
  }
}

/** The flags that keep a started node on loopback, off UDP discovery and on a free port. */
export function loopbackFlags(apiPort: number, peersPath: string): string[] {
  return [
    "--node-host",
    "127.0.0.1",
    "--node-port",
    "0",
    "--chatgpt-api-port",
    String(apiPort),
    "--discovery-config-path",
    peersPath,
    "--compute-lock",
    "none",
  ];
}

/**
 * Sends `signal` to the process the user started (`top`) or to its whole process group
 * (`group`, what Ctrl-C in a terminal does), then checks that the node stopped cleanly:
 * "Stopped" logged, the API port closed, no process of the group left, and the exit code;
 * with `withinMs`, also that the process ended in that time (a service manager's limit).
 */
export async function stopAndCheck(
  node: NodeProcess,
  signal: Deno.Signal,
  target: "top" | "group",
  exitCode: number,
  withinMs?: number,
): Promise<void> {
  if (target === "top") Deno.kill(node.pid, signal);
  else signalGroup(node.pid, signal);
  const status = withinMs === undefined ? await node.status : await withinTime(node, withinMs);
  // Orphans would hold the output pipes open: end them before reading to the end.
  const left = await processGroup(node.pid);
  if (left.length > 0) signalGroup(node.pid, "SIGKILL");
  await node.drained();
  const log = node.logs.join("\n");
  equal(left.length, 0, `left running: ${left.map((p) => `${p.pid} ${p.command}`).join("; ")}`);
  ok(node.logged(`Received ${signal}, shutting down`), log);
  ok(node.logged("INFO Stopped"), log);
  ok(await portClosed(node.apiPort), `port ${node.apiPort} still open`);
  equal(status.code, exitCode, log);
}
