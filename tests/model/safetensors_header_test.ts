import assert from "node:assert/strict";
import { CheckpointError } from "../../lib/model/checkpoint_error.ts";
import {
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
} from "../../lib/model/safetensors_header.ts";

const SOURCE = "/m/model.safetensors";

function header(json: unknown): Uint8Array {
  return new TextEncoder().encode(typeof json === "string" ? json : JSON.stringify(json));
}

function prefix(length: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, length, true);
  return bytes;
}

function assertCheckpointError(fn: () => unknown, message: string) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("parseSafetensorsHeader reads tensors and metadata", () => {
  const parsed = parseSafetensorsHeader(
    header({
      __metadata__: { format: "pt" },
      "model.norm.weight": { dtype: "F32", shape: [4], data_offsets: [0, 16] },
      "a.b": { dtype: "BF16", shape: [2, 3], data_offsets: [16, 28] },
      empty: { dtype: "F16", shape: [0, 5], data_offsets: [28, 28] },
    }),
    28,
    SOURCE,
  );
  assert.deepEqual(parsed.metadata, { format: "pt" });
  assert.deepEqual(parsed.tensors.get("a.b"), {
    name: "a.b",
    dtype: "BF16",
    shape: [2, 3],
    begin: 16,
    end: 28,
  });
  assert.equal(parsed.tensors.size, 3);
});

Deno.test("parseSafetensorsHeader refuses offsets beyond the data area", () => {
  assertCheckpointError(
    () =>
      parseSafetensorsHeader(
        header({ "model.norm.weight": { dtype: "U8", shape: [99999], data_offsets: [0, 99999] } }),
        4096,
        SOURCE,
      ),
    `Cannot read safetensors file ${SOURCE}: tensor model.norm.weight data_offsets [0, 99999] exceed data size 4096`,
  );
});

Deno.test("parseSafetensorsHeader refuses a byte range that does not match the shape", () => {
  assertCheckpointError(
    () =>
      parseSafetensorsHeader(
        header({ w: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } }),
        64,
        SOURCE,
      ),
    `Cannot read safetensors file ${SOURCE}: tensor w data_offsets [0, 12] hold 12 bytes, but F32 [2, 2] needs 16`,
  );
});

Deno.test("parseSafetensorsHeader refuses malformed entries with a reason", () => {
  const cases: [unknown, string][] = [
    ["{ nope", "header is not valid JSON"],
    ["[1, 2]", "header is not a JSON object"],
    ["null", "header is not a JSON object"],
    [{ w: [1] }, "tensor w is not an object"],
    [
      { w: { dtype: "Q4_K", shape: [1], data_offsets: [0, 1] } },
      'tensor w has unknown dtype "Q4_K"',
    ],
    [{ w: { shape: [1], data_offsets: [0, 1] } }, "tensor w has unknown dtype undefined"],
    [
      { w: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } },
      "tensor w shape [-1] is not a list",
    ],
    [
      { w: { dtype: "U8", shape: [1.5], data_offsets: [0, 1] } },
      "tensor w shape [1.5] is not a list",
    ],
    [{ w: { dtype: "U8", shape: "4", data_offsets: [0, 4] } }, 'tensor w shape "4" is not a list'],
    [{ w: { dtype: "U8", shape: [1], data_offsets: [0] } }, "tensor w data_offsets [0] are not"],
    [{ w: { dtype: "U8", shape: [1], data_offsets: [0, "1"] } }, 'tensor w data_offsets [0,"1"]'],
    [{ w: { dtype: "U8", shape: [1], data_offsets: [4, 3] } }, "end before they begin"],
    [{ __metadata__: "pt" }, "__metadata__ is not an object"],
  ];
  for (const [json, fragment] of cases) {
    assert.throws(
      () => parseSafetensorsHeader(header(json), 64, SOURCE),
      (error: unknown) => {
        assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${error}`);
        assert.ok(
          error.message.startsWith(`Cannot read safetensors file ${SOURCE}: `) &&
            error.message.includes(fragment),
          `"${error.message}" lacks "${fragment}"`,
        );
        return true;
      },
    );
  }
});

Deno.test("parseSafetensorsHeader refuses a header that is not UTF-8", () => {
  assert.throws(
    () => parseSafetensorsHeader(new Uint8Array([0x7b, 0xff, 0x7d]), 0, SOURCE),
    /header is not valid JSON/,
  );
});

Deno.test("readSafetensorsHeaderLength accepts a length that fits the file", () => {
  assert.equal(readSafetensorsHeaderLength(prefix(100n), 108, SOURCE), 100);
});

Deno.test("readSafetensorsHeaderLength refuses lengths beyond the file or the limit", () => {
  assertCheckpointError(
    () => readSafetensorsHeaderLength(prefix(101n), 108, SOURCE),
    `Cannot read safetensors file ${SOURCE}: header length 101 exceeds the 100 bytes after the length prefix`,
  );
  assertCheckpointError(
    () => readSafetensorsHeaderLength(prefix(2n ** 63n), 1e12, SOURCE),
    `Cannot read safetensors file ${SOURCE}: header length 9223372036854775808 exceeds the limit of 100000000`,
  );
  assertCheckpointError(
    () => readSafetensorsHeaderLength(new Uint8Array(3), 3, SOURCE),
    `Cannot read safetensors file ${SOURCE}: file is 3 bytes, shorter than the 8-byte header length`,
  );
});
