import { equal } from "node:assert/strict";
import { isValidNodeId } from "../../lib/cli/mod.ts";

Deno.test("isValidNodeId accepts names, UUIDs and 64 characters", () => {
  for (const id of ["mac1", "a", "node_1.local-2", crypto.randomUUID(), "x".repeat(64)]) {
    equal(isValidNodeId(id), true, id);
  }
});

Deno.test("isValidNodeId rejects empty, long, spaced and punctuated ids", () => {
  for (const id of ["", "x".repeat(65), "mac 1", "a/b", "a:b", "é", "mac1\n", "a,b"]) {
    equal(isValidNodeId(id), false, JSON.stringify(id));
  }
});
