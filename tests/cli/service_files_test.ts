// systemd and launchd do not run here, so these tests do what they would do with the
// example files in docs/service: start the command as written (install paths swapped for
// this checkout, the node kept on loopback and off UDP discovery), in a process group of its
// own (systemd's cgroup, launchd's process group), send the stop signal and check that the
// node stops cleanly within the file's timeout. What they cannot show: systemd's own
// parsing, DynamicUser, LoadCredential's copy (made here by hand), launchd's plist checks.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "../_helpers/free_port.ts";
import { NodeProcess } from "../_helpers/node_process.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";
import { loopbackFlags, stopAndCheck, writeEmptyPeers } from "./_started_node.ts";
import { parsePlist, type Plist, serviceSection, single } from "./_service_files.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const UNIT = fileURLToPath(new URL("../../docs/service/exo-node.service", import.meta.url));
const PLIST = fileURLToPath(new URL("../../docs/service/exo-node.plist", import.meta.url));

/** The PATH systemd gives a service. */
const SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The PATH launchd gives an agent. */
const LAUNCHD_PATH = "/usr/bin:/bin:/usr/sbin:/sbin";

/** This machine's Deno cache, so that the test does not download the node's 320 MB again. */
async function denoDir(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout)).denoDir;
}

/** The unit's ExecStart as systemd would run it, and its environment. */
async function systemdStart(
  dir: string,
): Promise<
  { argv: string[]; cwd: string; env: Record<string, string>; settings: Map<string, string[]> }
> {
  const settings = serviceSection(await Deno.readTextFile(UNIT));
  const credentials = `${dir}/credentials`;
  const specifiers: Record<string, string> = {
    "%S": `${dir}/state`,
    "%C": `${dir}/cache`,
    "%d": credentials,
  };
  const expand = (text: string) => text.replace(/%[SCd]/g, (s) => specifiers[s]);
  // LoadCredential=NAME:PATH: systemd copies the file, readable by the service only.
  await Deno.mkdir(credentials);
  for (const credential of settings.get("LoadCredential") ?? []) {
    const name = credential.slice(0, credential.indexOf(":"));
    await Deno.writeTextFile(`${credentials}/${name}`, "test-cluster-secret\n", { mode: 0o400 });
  }
  const env: Record<string, string> = {
    PATH: SYSTEMD_PATH,
    HOME: "/",
    CREDENTIALS_DIRECTORY: credentials,
  };
  for (const assignment of settings.get("Environment") ?? []) {
    const equals = assignment.indexOf("=");
    env[assignment.slice(0, equals)] = expand(assignment.slice(equals + 1));
  }
  env.DENO_DIR = await denoDir();
  const execStart = single(settings, "ExecStart");
  ok(!/["'\\]/.test(execStart), "ExecStart is split at blanks here: no quotes");
  const [program, ...args] = expand(execStart).split(/\s+/);
  equal(program, "/usr/local/bin/deno", "the unit starts deno by its absolute path");
  equal(single(settings, "WorkingDirectory"), "/opt/exo-node");
  return { argv: [Deno.execPath(), ...args], cwd: ROOT, env, settings };
}

for (const killMode of ["mixed", "control-group"] as const) {
  Deno.test(`the systemd unit's node stops cleanly on SIGTERM with KillMode=${killMode}`, async () => {
    await withTempDir(async (dir) => {
      await writeEmptyPeers(dir);
      const { argv, cwd, env, settings } = await systemdStart(dir);
      equal(single(settings, "KillMode"), "mixed", "the unit sets KillMode=mixed");
      equal(single(settings, "KillSignal"), "SIGTERM");
      const timeoutMs = Number(single(settings, "TimeoutStopSec")) * 1000;
      const apiPort = freePort();
      const node = NodeProcess.spawnCommand({
        id: "systemd",
        apiPort,
        nodePort: 0,
        command: argv[0],
        args: [...argv.slice(1), ...loopbackFlags(apiPort, `${dir}/peers.json`)],
        cwd,
        env,
        detached: true,
      });
      try {
        await node.ready(60_000);
        // The node took its state folder from the unit's EXO_NODE_HOME.
        ok((await Deno.stat(`${dir}/state/exo-node/node_id`)).isFile);
      } finally {
        // mixed: SIGTERM to the main process only; control-group: to every process.
        await stopAndCheck(node, "SIGTERM", killMode === "mixed" ? "top" : "group", 0, timeoutMs);
      }
    });
  });
}

function asDict(value: Plist | undefined): { [key: string]: Plist } {
  if (typeof value !== "object" || Array.isArray(value)) throw new TypeError("Expected a dict");
  return value;
}

Deno.test("the launchd plist's node stops cleanly on SIGTERM within ExitTimeOut", async () => {
  await withTempDir(async (dir) => {
    await writeEmptyPeers(dir);
    const plist = asDict(parsePlist(await Deno.readTextFile(PLIST)));
    equal(plist.Label, "local.exo-node");
    deepStrictEqual(asDict(plist.KeepAlive), { SuccessfulExit: false });
    const argv = plist.ProgramArguments as string[];
    equal(argv[0], "/opt/homebrew/bin/deno");
    equal(plist.WorkingDirectory, "/Users/ada/exo-node");
    // The home folder of the example user becomes the test's; the checkout stays where it is.
    const home = `${dir}/home`;
    await Deno.mkdir(`${home}/.exo-node`, { recursive: true });
    await Deno.writeTextFile(`${home}/.exo-node/cluster-secret`, "test-cluster-secret\n", {
      mode: 0o600,
    });
    const swap = (text: string) => text.replace("/Users/ada", home);
    const env: Record<string, string> = {
      PATH: LAUNCHD_PATH,
      HOME: home,
      DENO_DIR: await denoDir(),
      ...asDict(plist.EnvironmentVariables) as Record<string, string>,
    };
    const apiPort = freePort();
    const node = NodeProcess.spawnCommand({
      id: "launchd",
      apiPort,
      nodePort: 0,
      command: Deno.execPath(),
      args: [...argv.slice(1).map(swap), ...loopbackFlags(apiPort, `${dir}/peers.json`)],
      cwd: ROOT,
      env,
      detached: true,
    });
    try {
      await node.ready(60_000);
      ok((await Deno.stat(`${home}/.exo-node/node_id`)).isFile);
    } finally {
      // launchd sends SIGTERM to the job's process, SIGKILL after ExitTimeOut seconds.
      await stopAndCheck(node, "SIGTERM", "top", 0, (plist.ExitTimeOut as number) * 1000);
    }
  });
});
