import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { PeerDialer } from "../../lib/discovery/peer_dialer.ts";
import type { AnnouncedTarget } from "../../lib/discovery/announced_peers.ts";
import { Logger } from "../../lib/log/logger.ts";
import { waitUntil } from "../_helpers/wait_until.ts";

function target(host: string): AnnouncedTarget {
  return { id: "b", host, port: 50051, via: { name: "eth1", type: "ethernet" } };
}

Deno.test("PeerDialer waits for the round's other announcements and dials the best address once", async () => {
  const dialed: string[] = [];
  let release!: () => void;
  const dialer = new PeerDialer({
    dial: (t) => {
      dialed.push(t.host);
      return new Promise((resolve) => release = resolve);
    },
    logger: new Logger("error", () => {}),
    settleMs: 20,
  });
  let best = "10.0.0.2";
  dialer.request("b", () => target(best));
  best = "169.254.0.2"; // a better link heard within the settle time
  dialer.request("b", () => target("never"));
  await waitUntil(() => dialed.length === 1, "the dial starts");
  dialer.request("b", () => target("never")); // an attempt is running
  release();
  await dialer.close();
  deepStrictEqual(dialed, ["169.254.0.2"]);
});

Deno.test("PeerDialer pauses after a failure, warns once and logs repeats at debug", async () => {
  const lines: string[] = [];
  let attempts = 0;
  const dialer = new PeerDialer({
    dial: () => {
      attempts++;
      return Promise.reject(new Error("Refused by peer: node b failed the cluster secret proof"));
    },
    logger: new Logger("debug", (line) => lines.push(line)),
    settleMs: 0,
    backoff: { initialMs: 60, maxMs: 60 },
  });
  dialer.request("b", () => target("10.0.0.2"));
  await waitUntil(() => attempts === 1 && lines.some((l) => l.includes("WARN")), "a first failure");
  dialer.request("b", () => target("10.0.0.2")); // within the pause: ignored
  await new Promise((resolve) => setTimeout(resolve, 5));
  equal(attempts, 1);
  await waitUntil(() => {
    dialer.request("b", () => target("10.0.0.2"));
    return attempts === 2;
  }, "a retry after the pause");
  await dialer.close();
  equal(lines.filter((l) => l.includes("WARN")).length, 1);
  ok(lines.some((l) => l.includes("DEBUG") && l.includes("(attempt 2)")));
  ok(lines[1].includes("Cannot connect to b at 10.0.0.2:50051 over eth1 (ethernet): Refused"));
});

Deno.test("PeerDialer skips a dial when nothing is left to dial, and close cancels a scheduled one", async () => {
  let attempts = 0;
  const dialer = new PeerDialer({
    dial: () => {
      attempts++;
      return Promise.resolve();
    },
    logger: new Logger("error", () => {}),
    settleMs: 0,
  });
  let asked = false;
  dialer.request("b", () => {
    asked = true;
    return null; // connected meanwhile
  });
  await waitUntil(() => asked, "the target is asked for");
  dialer.request("c", () => target("10.0.0.3"));
  await dialer.close();
  equal(attempts, 0);
});
