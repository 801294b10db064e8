import assert from "node:assert/strict";
import { flagParts } from "../../web/src/lib/flag_parts.ts";

Deno.test("flagParts finds flags, not the dashes inside a path or a word", () => {
  assert.deepEqual(
    flagParts("Start with --offline, or set --models-seed-dir to models--Qwen--Qwen3-0.6B"),
    ["Start with ", "--offline", ", or set ", "--models-seed-dir", " to models--Qwen--Qwen3-0.6B"],
  );
  assert.deepEqual(flagParts("--offline"), ["", "--offline", ""]);
  assert.deepEqual(flagParts("no flags -- here"), ["no flags -- here"]);
});
