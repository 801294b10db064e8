import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  type Announcement,
  ANNOUNCEMENT_TYPE,
  encodeAnnouncement,
  MAX_ANNOUNCEMENT_BYTES,
  parseAnnouncement,
} from "../../lib/discovery/announcement.ts";
import { SeededRandom } from "../fixtures/seeded_random.ts";

const MAC1: Announcement = {
  nodeId: "mac1",
  instance: "9f2c4e6a8b0d1f3e",
  protocol: 1,
  nodePort: 50051,
  address: "192.168.1.20",
  interface: { name: "en0", type: "wifi" },
  priority: 3,
  capabilities: {
    model: "MacBook Pro",
    chip: "Apple M2 Max",
    memory: 32768,
    flops: { fp32: 13.49, fp16: 26.98, int8: 53.96 },
  },
};

const encoder = new TextEncoder();

function wire(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = JSON.parse(new TextDecoder().decode(encodeAnnouncement(MAC1)));
  return { ...base, ...overrides };
}

function parseJson(value: unknown) {
  return parseAnnouncement(encoder.encode(JSON.stringify(value)));
}

function problemOf(value: unknown): string {
  const parsed = parseJson(value);
  return parsed.ok ? "ok" : `${parsed.problem}: ${parsed.detail}`;
}

Deno.test("encodeAnnouncement writes the documented JSON that parseAnnouncement reads back", () => {
  const bytes = encodeAnnouncement(MAC1);
  deepStrictEqual(JSON.parse(new TextDecoder().decode(bytes)), {
    type: ANNOUNCEMENT_TYPE,
    v: 1,
    protocol: 1,
    node_id: "mac1",
    instance: "9f2c4e6a8b0d1f3e",
    node_port: 50051,
    address: "192.168.1.20",
    interface: { name: "en0", type: "wifi" },
    priority: 3,
    capabilities: {
      model: "MacBook Pro",
      chip: "Apple M2 Max",
      memory: 32768,
      flops: { fp32: 13.49, fp16: 26.98, int8: 53.96 },
    },
  });
  equal(bytes.length, 316, "the size docs/PROTOCOL.md gives for this example");
  deepStrictEqual(parseAnnouncement(bytes), { ok: true, announcement: MAC1 });
});

Deno.test("encodeAnnouncement shortens long model names so the datagram fits one frame", () => {
  const long = {
    ...MAC1,
    capabilities: { ...MAC1.capabilities, model: "é".repeat(5000), chip: "🍎".repeat(300) },
  };
  const bytes = encodeAnnouncement(long);
  ok(bytes.length <= MAX_ANNOUNCEMENT_BYTES);
  const parsed = parseAnnouncement(bytes);
  ok(parsed.ok);
  ok(parsed.announcement.capabilities.model.startsWith("éé"));
  equal(parsed.announcement.nodeId, "mac1");
});

Deno.test("parseAnnouncement refuses a datagram above 1200 bytes before reading it", () => {
  const parsed = parseAnnouncement(new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1).fill(0x20));
  deepStrictEqual(parsed, { ok: false, problem: "oversize", detail: "1201 bytes exceed 1200" });
});

Deno.test("parseAnnouncement refuses bytes that are not UTF-8 JSON", () => {
  for (
    const bytes of [
      new Uint8Array([0xff, 0xfe, 0x7b]),
      encoder.encode('{"type":'),
      new Uint8Array(),
    ]
  ) {
    const parsed = parseAnnouncement(bytes);
    equal(parsed.ok ? "ok" : parsed.problem, "not_json");
  }
});

Deno.test("parseAnnouncement refuses JSON that is not an announcement", () => {
  for (const value of [null, 7, "exo", [wire()], {}, wire({ type: "discovery" })]) {
    ok(problemOf(value).startsWith("not_announcement"), JSON.stringify(value));
  }
});

Deno.test("parseAnnouncement refuses another format version", () => {
  equal(problemOf(wire({ v: 2 })), "wrong_version: format version 2 (this node reads 1)");
  ok(problemOf(wire({ v: "1" })).startsWith("wrong_version"));
  const { v: _, ...unversioned } = wire();
  ok(problemOf(unversioned).startsWith("wrong_version"));
});

Deno.test("parseAnnouncement refuses each invalid field, naming it", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ node_id: "mac 1" }, "node_id"],
    [{ node_id: 5 }, "node_id"],
    [{ instance: "XYZ" }, "instance"],
    [{ instance: "abc" }, "instance"],
    [{ protocol: 0 }, "protocol"],
    [{ protocol: 1.5 }, "protocol"],
    [{ node_port: 70000 }, "node_port"],
    [{ node_port: "50051" }, "node_port"],
    [{ address: "192.168.1" }, "address"],
    [{ address: "192.168.001.20" }, "address"],
    [{ address: "::1" }, "address"],
    [{ interface: "en0" }, "interface"],
    [{ interface: { name: "", type: "wifi" } }, "interface.name"],
    [{ interface: { name: "en 0", type: "wifi" } }, "interface.name"],
    [{ interface: { name: "en0", type: "Wi-Fi!" } }, "interface.type"],
    [{ priority: 9 }, "priority"],
    [{ priority: -1 }, "priority"],
    [{ capabilities: null }, "capabilities"],
    [{ capabilities: { ...MAC1.capabilities, memory: -1 } }, "capabilities.memory"],
    [{ capabilities: { ...MAC1.capabilities, chip: 3 } }, "capabilities.chip"],
    [{ capabilities: { ...MAC1.capabilities, model: "x".repeat(129) } }, "capabilities.model"],
    [
      { capabilities: { ...MAC1.capabilities, flops: { fp32: 1, fp16: 1 } } },
      "capabilities.flops.int8",
    ],
  ];
  for (const [override, field] of cases) {
    const problem = problemOf(wire(override));
    ok(problem.startsWith(`invalid: ${field}:`), `${JSON.stringify(override)}: ${problem}`);
  }
});

Deno.test("parseAnnouncement ignores unknown fields and ranks an unknown interface type as other", () => {
  const parsed = parseJson(
    wire({ future: [1, 2, 3], interface: { name: "ib0", type: "infiniband" } }),
  );
  ok(parsed.ok);
  deepStrictEqual(parsed.announcement.interface, { name: "ib0", type: "other" });
  const loopback = parseJson(wire({ interface: { name: "lo", type: "loopback" } }));
  ok(loopback.ok);
  equal(loopback.announcement.interface.type, "other");
});

Deno.test("parseAnnouncement never throws on random bytes (fuzz, 20000 datagrams)", () => {
  const random = new SeededRandom(16, "random bytes");
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = new Uint8Array(random.nextInt(i % 10 === 0 ? 1500 : 64));
    for (let k = 0; k < bytes.length; k++) bytes[k] = random.nextInt(256);
    const parsed = parseAnnouncement(bytes);
    if (parsed.ok) accepted++;
    else ok(parsed.detail.length > 0);
  }
  equal(accepted, 0);
});

Deno.test("parseAnnouncement never throws on mutated valid datagrams, and whatever it accepts is valid (fuzz)", () => {
  const random = new SeededRandom(16, "mutations");
  const valid = encodeAnnouncement(MAC1);
  const text = new TextDecoder().decode(valid);
  const pieces = [
    '"',
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "0",
    "-1",
    "1e999",
    "null",
    "true",
    "\\u0000",
    "é",
    "\udc00",
  ];
  const problems = new Map<string, number>();
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    switch (i % 4) {
      case 0: {
        bytes = valid.slice();
        for (let flips = 1 + random.nextInt(4); flips > 0; flips--) {
          bytes[random.nextInt(bytes.length)] = random.nextInt(256);
        }
        break;
      }
      case 1:
        bytes = valid.slice(0, random.nextInt(valid.length));
        break;
      case 2: {
        const at = random.nextInt(text.length);
        const piece = pieces[random.nextInt(pieces.length)];
        bytes = encoder.encode(text.slice(0, at) + piece + text.slice(at + random.nextInt(3)));
        break;
      }
      default: {
        // Swap a value for one of another field.
        const value = wire();
        const keys = Object.keys(value);
        const a = keys[random.nextInt(keys.length)];
        const b = keys[random.nextInt(keys.length)];
        bytes = encoder.encode(JSON.stringify({ ...value, [a]: value[b] }));
      }
    }
    const parsed = parseAnnouncement(bytes);
    if (parsed.ok) {
      accepted++;
      // Anything accepted encodes and parses back to itself.
      deepStrictEqual(parseAnnouncement(encodeAnnouncement(parsed.announcement)), parsed);
    } else {
      problems.set(parsed.problem, (problems.get(parsed.problem) ?? 0) + 1);
    }
  }
  ok(accepted > 0, "some mutations keep a valid datagram");
  for (const problem of ["not_json", "not_announcement", "invalid"]) {
    ok((problems.get(problem) ?? 0) > 0, `no mutation gave ${problem}`);
  }
});
