import { strictEqual } from "node:assert/strict";
import { isValidNodeId } from "../../lib/topology/node_id.ts";

Deno.test("isValidNodeId accepts letters, digits, dots, underscores and dashes", () => {
  for (const id of ["mac1", "a", "node-2.local_x", "A".repeat(64), "127.0.0.1"]) {
    strictEqual(isValidNodeId(id), true, id);
  }
});

Deno.test("isValidNodeId rejects empty, long and punctuated ids", () => {
  for (const id of ["", "A".repeat(65), "mac 1", "mac/1", "mac:1", "über", "a\n", "\u0000"]) {
    strictEqual(isValidNodeId(id), false, JSON.stringify(id));
  }
});
