import assert from "node:assert/strict";
import { busyMachineWarning } from "../../scripts/_bench_util.ts";

Deno.test("busyMachineWarning warns from a load average of half the CPUs, not below", () => {
  assert.equal(busyMachineWarning(0.2, 2), null);
  assert.equal(busyMachineWarning(0.99, 2), null);
  assert.equal(
    busyMachineWarning(3.5, 2),
    "WARNING: the machine was busy when the run began (load average 3.5 on 2 cpus): figures " +
      "and ratios are not trustworthy; rerun on a quiet machine",
  );
  assert.match(busyMachineWarning(4, 8)!, /load average 4\.0 on 8 cpus/);
});
