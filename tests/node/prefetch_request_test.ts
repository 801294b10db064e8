import assert from "node:assert/strict";
import {
  MAX_PREFETCH_LAYER,
  MAX_PREFETCH_MODEL_LENGTH,
  parsePrefetchRequest,
  prefetchRequestJson,
} from "../../lib/node/prefetch_request.ts";

Deno.test("parsePrefetchRequest reads back what prefetchRequestJson writes", () => {
  const json = prefetchRequestJson("test-org/tiny-llama", 3, 5);
  assert.equal(
    json,
    '{"event":"prefetch","model":"test-org/tiny-llama","startLayer":3,"endLayer":5}',
  );
  assert.deepEqual(parsePrefetchRequest(json), {
    event: "prefetch",
    model: "test-org/tiny-llama",
    startLayer: 3,
    endLayer: 5,
  });
  // Unknown fields are left out; one layer is a range too.
  assert.deepEqual(
    parsePrefetchRequest('{"event":"prefetch","model":"m","startLayer":0,"endLayer":0,"x":1}'),
    { event: "prefetch", model: "m", startLayer: 0, endLayer: 0 },
  );
});

Deno.test("parsePrefetchRequest returns null for status JSON that is not a prefetch request", () => {
  for (
    const json of [
      "",
      "not json",
      "null",
      "42",
      '"prefetch"',
      '["prefetch"]',
      "{}",
      '{"event":"download","model":"m","startLayer":0,"endLayer":1}',
      '{"event":"shard","state":"loading"}',
      '{"event":"Prefetch","model":"m","startLayer":0,"endLayer":1}',
    ]
  ) {
    assert.equal(parsePrefetchRequest(json), null, json);
  }
});

Deno.test("parsePrefetchRequest rejects a malformed prefetch request field by field", async (t) => {
  const base = { event: "prefetch", model: "test-org/tiny", startLayer: 0, endLayer: 3 };
  const cases: [string, Record<string, unknown>, typeof TypeError, RegExp][] = [
    ["no model", { model: undefined }, TypeError, /model must be a string, got undefined/],
    ["a numeric model", { model: 7 }, TypeError, /model must be a string, got number/],
    ["a null model", { model: null }, TypeError, /got null/],
    ["a blank model", { model: "  " }, RangeError, /model is blank/],
    [
      "an overlong model",
      { model: "x".repeat(MAX_PREFETCH_MODEL_LENGTH + 1) },
      RangeError,
      /model has 4097 characters, above 4096/,
    ],
    ["a string layer", { startLayer: "0" }, TypeError, /startLayer must be a number, got string/],
    ["an array layer", { endLayer: [3] }, TypeError, /endLayer must be a number, got an array/],
    ["no end layer", { endLayer: undefined }, TypeError, /endLayer must be a number/],
    ["a negative layer", { startLayer: -1 }, RangeError, /startLayer must be an integer .* got -1/],
    ["a fractional layer", { endLayer: 2.5 }, RangeError, /endLayer .* got 2\.5/],
    [
      "a layer past the bound",
      { endLayer: MAX_PREFETCH_LAYER + 1 },
      RangeError,
      /endLayer must be an integer from 0 to 9999, got 10000/,
    ],
    ["a huge layer", { endLayer: 1e300 }, RangeError, /endLayer/],
    [
      "reversed layers",
      { startLayer: 4, endLayer: 3 },
      RangeError,
      /endLayer 3 is before startLayer 4/,
    ],
  ];
  for (const [name, change, type, pattern] of cases) {
    await t.step(name, () => {
      const json = JSON.stringify({ ...base, ...change });
      assert.throws(() => parsePrefetchRequest(json), (error: Error) => {
        assert.ok(error instanceof type, `${error.name}: ${error.message}`);
        assert.match(error.message, /^Cannot parse a prefetch request: /);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }
  // Non-finite numbers cannot come through JSON.parse, but NaN-like text is not JSON at all.
  assert.equal(parsePrefetchRequest('{"event":"prefetch","model":"m","startLayer":NaN}'), null);
});
