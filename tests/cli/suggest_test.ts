import { equal } from "node:assert/strict";
import { closest, editDistance } from "../../lib/cli/_suggest.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  equal(editDistance("", "abc"), 3);
  equal(editDistance("--nod-port", "--node-port"), 1);
  equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("closest picks the nearest candidate and ignores far ones", () => {
  const flags = ["--node-id", "--node-port", "--chatgpt-api-port"];
  equal(closest("--node-prot", flags), "--node-port");
  equal(closest("--chatgpt-port", flags), "--chatgpt-api-port");
  equal(closest("--frobnicate", flags), undefined);
});
