import { equal } from "node:assert/strict";
import { DatagramLimiter, DEFAULT_DATAGRAM_LIMITS } from "../../lib/discovery/datagram_limiter.ts";

const LIMITS = {
  perSourceRate: 2,
  perSourceBurst: 4,
  totalRate: 10,
  totalBurst: 10,
  maxSources: 3,
};

function allowed(limiter: DatagramLimiter, source: string, count: number, at: number): number {
  let passed = 0;
  for (let i = 0; i < count; i++) if (limiter.allow(source, at)) passed++;
  return passed;
}

Deno.test("DatagramLimiter lets one sender burst, then only at its rate", () => {
  const limiter = new DatagramLimiter(LIMITS, 0);
  equal(allowed(limiter, "10.0.0.2", 10, 0), 4);
  equal(allowed(limiter, "10.0.0.2", 10, 500), 1);
  equal(allowed(limiter, "10.0.0.2", 10, 2500), 4);
});

Deno.test("DatagramLimiter caps all senders together", () => {
  const limiter = new DatagramLimiter({ ...LIMITS, maxSources: 100 }, 0);
  let passed = 0;
  for (let i = 0; i < 20; i++) passed += allowed(limiter, `10.0.1.${i}`, 1, 0);
  equal(passed, 10);
});

Deno.test("DatagramLimiter forgets the least recent sender beyond its limit", () => {
  const limiter = new DatagramLimiter(LIMITS, 0);
  equal(allowed(limiter, "a", 4, 0), 4);
  equal(allowed(limiter, "a", 1, 0), 0);
  allowed(limiter, "b", 1, 0);
  allowed(limiter, "c", 1, 0);
  allowed(limiter, "d", 1, 0); // pushes "a" out
  // Forgotten, "a" starts with a full burst again: memory stays bounded under spoofing.
  equal(allowed(limiter, "a", 1, 0), 1);
});

Deno.test("DatagramLimiter's defaults pass an honest node and stop a flood", () => {
  const limiter = new DatagramLimiter(DEFAULT_DATAGRAM_LIMITS, 0);
  // Four interfaces every 2.5 s for a minute.
  let honest = 0;
  for (let t = 0; t < 60_000; t += 2500) honest += allowed(limiter, "192.168.1.20", 4, t);
  equal(honest, 4 * 24);
  equal(allowed(limiter, "192.168.1.66", 10_000, 60_000), DEFAULT_DATAGRAM_LIMITS.perSourceBurst);
});
