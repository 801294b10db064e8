// The README's one-node command, `deno task start` with no discovery flag, runs UDP
// discovery: it broadcasts on the LAN. Here it runs in a network namespace of its own (a
// LAN interface and nothing else on it), never on this machine's network. Needs root;
// skipped (saying why) where namespaces cannot be made, failing instead in CI.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { NetLab, netnsProblem, netnsRequired } from "../_helpers/net_lab.ts";
import { NodeProcess } from "../_helpers/node_process.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";
import { eventually } from "../cluster/_serving.ts";
import type { TopologySnapshot } from "../../lib/node/mod.ts";

const problem = netnsRequired() ? null : await netnsProblem();
const skipped = problem === null ? "" : ` (skipped: ${problem})`;

/** Its own announcements heard back on its LAN: rounds that could have made a phantom. */
const ROUNDS = 3;

for (const secret of [true, false]) {
  Deno.test({
    name: `A lone node with the default discovery ${
      secret ? "and a cluster secret" : "and no secret"
    } sees only itself and warns of no connection${skipped}`,
    ignore: problem !== null,
    async fn() {
      await withTempDir(async (dir) => {
        const lab = await NetLab.create();
        let node: NodeProcess | undefined;
        try {
          const host = await lab.host("lone");
          await lab.switch([host], "eth1", "192.168.56");
          node = NodeProcess.spawn({
            id: "lone",
            nodePort: 50051,
            apiPort: 52415,
            stateDir: `${dir}/state`,
            netns: { name: host.ns, host: host.address },
            args: ["--broadcast-interval", "0.2", "--discovery-timeout", "1"],
            env: secret ? { EXO_CLUSTER_SECRET: "one-machine" } : {},
          });
          await node.ready(60_000);
          const running = node;
          let topology: TopologySnapshot | undefined;
          await eventually(
            async () => {
              topology = await running.getJson<TopologySnapshot>("/v1/topology");
              return (topology.discovery?.udp?.datagrams.own ?? 0) >= ROUNDS;
            },
            `the node heard its own announcement ${ROUNDS} times`,
            30_000,
          );
          deepStrictEqual(topology!.nodes.map((n) => n.id), ["lone"]);
          deepStrictEqual(topology!.discovery?.modules, ["udp"]);
          equal(topology!.discovery?.udp?.heard.length, 0);
          const warnings = running.logs.filter((line) => / (WARN|ERROR) /.test(line));
          if (secret) deepStrictEqual(warnings, []);
          else {
            // Only what a node without a secret on a LAN must say: set one.
            ok(warnings.length > 0 && warnings.every((w) => /secret/.test(w)), warnings.join("\n"));
          }
        } finally {
          await node?.stop();
          await lab.close();
        }
      });
    },
  });
}
