import assert from "node:assert/strict";
import {
  encodeRequestMeta,
  parseRequestMeta,
  type RequestMeta,
} from "../../lib/orchestration/request_meta.ts";

const META: RequestMeta = {
  model: "llama-3.2-1b",
  origin: "mac1",
  shards: [
    { nodeId: "mac1", startLayer: 0, endLayer: 9 },
    { nodeId: "mac2", startLayer: 10, endLayer: 15 },
  ],
  sampling: { temperature: 0.7, topP: 0.9, topK: 0 },
  seed: -42,
  maxTokens: 256,
  eosTokenIds: [128001, 128009],
};

Deno.test("parseRequestMeta reads back what encodeRequestMeta wrote", () => {
  assert.deepEqual(parseRequestMeta(encodeRequestMeta(META)), META);
});

Deno.test("parseRequestMeta names the field at fault", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "{", /Cannot parse request meta: /],
    ["an array", [], /meta must be an object/],
    ["no model", { ...META, model: undefined }, /model must be a non-empty string/],
    ["an empty origin", { ...META, origin: "" }, /origin must be a non-empty string/],
    ["no shards", { ...META, shards: [] }, /shards must be a non-empty array/],
    ["a shard not an object", { ...META, shards: [7] }, /shards\[0\] must be an object/],
    [
      "a gap between shards",
      { ...META, shards: [META.shards[0], { ...META.shards[1], startLayer: 11 }] },
      /shards\[1\] covers 11\.\.15, expected to start at 10/,
    ],
    [
      "a first shard not at layer 0",
      { ...META, shards: [{ nodeId: "a", startLayer: 1, endLayer: 3 }] },
      /expected to start at 0/,
    ],
    [
      "a negative layer",
      { ...META, shards: [{ nodeId: "a", startLayer: -1, endLayer: 3 }] },
      /shards\[0\]\.startLayer must be an integer >= 0/,
    ],
    [
      "a NaN temperature",
      { ...META, sampling: { ...META.sampling, temperature: "x" } },
      /sampling\.temperature/,
    ],
    ["a fractional maxTokens", { ...META, maxTokens: 1.5 }, /maxTokens must be an integer >= 0/],
    ["a huge seed", { ...META, seed: 2 ** 60 }, /seed must be a safe integer/],
    ["eos ids not an array", { ...META, eosTokenIds: 5 }, /eosTokenIds must be an array/],
    ["a bad eos id", { ...META, eosTokenIds: [1, "2"] }, /eosTokenIds\[1\]/],
  ];
  for (const [name, value, pattern] of cases) {
    await t.step(name, () => {
      const json = typeof value === "string" ? value : JSON.stringify(value);
      assert.throws(() => parseRequestMeta(json), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }
});
