import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { formatAddress, parsePeersFile, type PeerEntry } from "../../lib/discovery/peers_file.ts";
import { UNKNOWN_CAPABILITIES } from "../../lib/topology/device_capabilities.ts";

const M2 = {
  model: "MacBook Air",
  chip: "Apple M2",
  memory: 16384,
  flops: { fp32: 3.55, fp16: 7.1, int8: 14.2 },
};

function peers(body: Record<string, unknown>): string {
  return JSON.stringify({ peers: body });
}

function endpoints(entries: PeerEntry[]): string[] {
  return entries.map((entry) => `${entry.id}=${formatAddress(entry.host, entry.port)}`);
}

Deno.test("parsePeersFile reads host:port in one address field", () => {
  deepStrictEqual(
    parsePeersFile(
      peers({ mac2: { address: "127.0.0.1:50052", device_capabilities: M2 } }),
      "p.json",
    ),
    [
      { id: "mac2", host: "127.0.0.1", port: 50052, capabilities: M2, capabilitiesKnown: true },
    ],
  );
});

Deno.test("parsePeersFile reads exo's separate address and port", () => {
  deepStrictEqual(
    endpoints(parsePeersFile(peers({ mac1: { address: "10.0.0.2", port: 50051 } }), "p.json")),
    [
      "mac1=10.0.0.2:50051",
    ],
  );
});

Deno.test("parsePeersFile accepts a port given twice when both agree", () => {
  deepStrictEqual(endpoints(parsePeersFile(peers({ a: { address: "h:5", port: 5 } }), "p.json")), [
    "a=h:5",
  ]);
});

Deno.test("parsePeersFile reads IPv6 in brackets or bare with a port field", () => {
  const entries = parsePeersFile(
    peers({
      a: { address: "[::1]:50051" },
      b: { address: "::1", port: 50052 },
      c: { address: "[fe80::1%eth0]", port: 7 },
      d: { address: "2001:db8::8a2e:370:7334", port: 9 },
    }),
    "p.json",
  );
  deepStrictEqual(entries.map((entry) => entry.host), [
    "::1",
    "::1",
    "fe80::1%eth0",
    "2001:db8::8a2e:370:7334",
  ]);
  deepStrictEqual(endpoints(entries), [
    "a=[::1]:50051",
    "b=[::1]:50052",
    "c=[fe80::1%eth0]:7",
    "d=[2001:db8::8a2e:370:7334]:9",
  ]);
});

Deno.test("parsePeersFile reads host names", () => {
  deepStrictEqual(
    endpoints(parsePeersFile(peers({ m: { address: "mac-mini.local:6000" } }), "p.json")),
    [
      "m=mac-mini.local:6000",
    ],
  );
});

Deno.test("parsePeersFile fills missing capabilities with placeholders", () => {
  const [entry] = parsePeersFile(peers({ a: { address: "h:1" } }), "p.json");
  deepStrictEqual(entry.capabilities, UNKNOWN_CAPABILITIES);
  strictEqual(entry.capabilitiesKnown, false);
  entry.capabilities.flops.fp32 = 99;
  strictEqual(UNKNOWN_CAPABILITIES.flops.fp32, 0, "placeholders are copied, not shared");
});

Deno.test("parsePeersFile fills the fields a partial device_capabilities leaves out", () => {
  const [entry] = parsePeersFile(
    peers({ a: { address: "h:1", device_capabilities: { memory: 8192, flops: { fp16: 2 } } } }),
    "p.json",
  );
  deepStrictEqual(entry.capabilities, {
    ...UNKNOWN_CAPABILITIES,
    memory: 8192,
    flops: { fp32: 0, fp16: 2, int8: 0 },
  });
  strictEqual(entry.capabilitiesKnown, true);
});

Deno.test("parsePeersFile skips the node's own entry", () => {
  const text = peers({ mac1: { address: "h:1" }, mac2: { address: "h:2" } });
  deepStrictEqual(parsePeersFile(text, "p.json", "mac1").map((entry) => entry.id), ["mac2"]);
  deepStrictEqual(parsePeersFile(text, "p.json", "mac3").map((entry) => entry.id), [
    "mac1",
    "mac2",
  ]);
});

Deno.test("parsePeersFile returns peers ordered by id", () => {
  const text = peers({ c: { address: "h:3" }, a: { address: "h:1" }, B: { address: "h:2" } });
  deepStrictEqual(parsePeersFile(text, "p.json").map((entry) => entry.id), ["B", "a", "c"]);
});

Deno.test("parsePeersFile accepts no peers, unknown keys and a byte order mark", () => {
  deepStrictEqual(
    parsePeersFile('\uFEFF{"peers": {}, "_comment": "x", "version": [1]}', "p.json"),
    [],
  );
  deepStrictEqual(
    endpoints(parsePeersFile(peers({ a: { address: "h:1", note: { deep: true } } }), "p.json")),
    ["a=h:1"],
  );
});

Deno.test("parsePeersFile names the file, path and reason of a bad port", () => {
  throws(
    () => parsePeersFile(peers({ mac2: { address: "127.0.0.1", port: 70000 } }), "mac1_peers.json"),
    {
      name: "RangeError",
      message:
        "Cannot parse peers file mac1_peers.json: peers.mac2.port: 70000 is not a port (1-65535)",
    },
  );
  throws(() => parsePeersFile(peers({ mac2: { address: "127.0.0.1:0" } }), "x.json"), {
    name: "RangeError",
    message: "Cannot parse peers file x.json: peers.mac2.address: 0 is not a port (1-65535)",
  });
  throws(() => parsePeersFile(peers({ mac2: { address: "h", port: 1.5 } }), "x.json"), RangeError);
  throws(() => parsePeersFile(peers({ mac2: { address: "h", port: "50051" } }), "x.json"), {
    name: "TypeError",
    message: "Cannot parse peers file x.json: peers.mac2.port: expected an integer, got a string",
  });
  throws(() => parsePeersFile(peers({ mac2: { address: "h:5x" } }), "x.json"), {
    message: 'Cannot parse peers file x.json: peers.mac2.address: port "5x" is not a number',
  });
});

Deno.test("parsePeersFile rejects a port field that disagrees with the address", () => {
  throws(
    () => parsePeersFile(peers({ mac2: { address: "127.0.0.1:50052", port: 50051 } }), "x.json"),
    {
      name: "TypeError",
      message:
        'Cannot parse peers file x.json: peers.mac2.port: 50051 disagrees with port 50052 in address "127.0.0.1:50052"',
    },
  );
});

Deno.test("parsePeersFile rejects a peer without a port, naming it", () => {
  throws(() => parsePeersFile(peers({ mac2: { address: "10.0.0.2" } }), "x.json"), {
    name: "TypeError",
    message:
      'Cannot parse peers file x.json: peers.mac2: no port (give "address": "host:port" or a "port" field)',
  });
  throws(() => parsePeersFile(peers({ v6: { address: "::1" } }), "x.json"), {
    message: /peers\.v6: no port/,
  });
});

Deno.test("parsePeersFile rejects a missing or malformed address", () => {
  const cases: [unknown, string][] = [
    [{ port: 1 }, 'peers.a: missing "address"'],
    [{ address: 5 }, "peers.a.address: expected a string, got a number"],
    [{ address: "" }, 'peers.a.address: "" is not a host or host:port'],
    [{ address: "http://h:1" }, 'peers.a.address: "http://h:1" is not a host or host:port'],
    [{ address: "a b:1" }, 'peers.a.address: "a b:1" is not a host or host:port'],
    [{ address: "[zz::1]:1" }, 'peers.a.address: "zz::1" is not an IPv6 address'],
  ];
  for (const [peer, detail] of cases) {
    throws(() => parsePeersFile(peers({ a: peer }), "x.json"), {
      name: "TypeError",
      message: `Cannot parse peers file x.json: ${detail}`,
    });
  }
});

Deno.test("parsePeersFile rejects an invalid peer id, quoting it in the path", () => {
  throws(() => parsePeersFile(peers({ "mac 2": { address: "h:1" } }), "x.json"), {
    name: "TypeError",
    message:
      'Cannot parse peers file x.json: peers["mac 2"]: "mac 2" is not a valid node id (1-64 of A-Z a-z 0-9 . _ -)',
  });
  throws(() => parsePeersFile(peers({ "": { address: "h:1" } }), "x.json"), TypeError);
});

Deno.test("parsePeersFile quotes ids with dots in the path so they read unambiguously", () => {
  throws(() => parsePeersFile(peers({ "mac.2": { address: "h" } }), "x.json"), {
    message:
      'Cannot parse peers file x.json: peers["mac.2"]: no port (give "address": "host:port" or a "port" field)',
  });
});

Deno.test("parsePeersFile rejects a wrong shape at each level", () => {
  const cases: [string, string][] = [
    ["[]", "top level: expected an object, got an array"],
    ["null", "top level: expected an object, got null"],
    ["{}", "peers: missing (expected an object of peers by id)"],
    ['{"peers": []}', "peers: expected an object, got an array"],
    ['{"peers": {"a": "h:1"}}', "peers.a: expected an object, got a string"],
    [
      '{"peers": {"a": {"address": "h:1", "device_capabilities": 3}}}',
      "peers.a.device_capabilities: expected an object, got a number",
    ],
    [
      '{"peers": {"a": {"address": "h:1", "device_capabilities": {"chip": 3}}}}',
      "peers.a.device_capabilities.chip: expected a string, got a number",
    ],
    [
      '{"peers": {"a": {"address": "h:1", "device_capabilities": {"memory": "8GB"}}}}',
      "peers.a.device_capabilities.memory: expected a number, got a string",
    ],
    [
      '{"peers": {"a": {"address": "h:1", "device_capabilities": {"flops": [1]}}}}',
      "peers.a.device_capabilities.flops: expected an object, got an array",
    ],
  ];
  for (const [text, detail] of cases) {
    throws(() => parsePeersFile(text, "x.json"), {
      name: "TypeError",
      message: `Cannot parse peers file x.json: ${detail}`,
    }, text);
  }
});

Deno.test("parsePeersFile rejects negative memory and flops as out of range", () => {
  throws(
    () =>
      parsePeersFile(
        peers({ a: { address: "h:1", device_capabilities: { memory: -1 } } }),
        "x.json",
      ),
    {
      name: "RangeError",
      message:
        "Cannot parse peers file x.json: peers.a.device_capabilities.memory: -1 is not a number of MB >= 0",
    },
  );
  throws(
    () =>
      parsePeersFile(
        peers({ a: { address: "h:1", device_capabilities: { flops: { int8: -0.5 } } } }),
        "x.json",
      ),
    {
      name: "RangeError",
      message:
        "Cannot parse peers file x.json: peers.a.device_capabilities.flops.int8: -0.5 is not a number of TFLOPS >= 0",
    },
  );
});

Deno.test("parsePeersFile gives the line and column of a JSON syntax error", () => {
  throws(() => parsePeersFile('{\n  "peers": {\n    "a": 1\n    "b": 2\n  }\n}', "x.json"), {
    name: "SyntaxError",
    message:
      "Cannot parse peers file x.json at line 4, column 5: Expected ',' or '}' after property value",
  });
});

Deno.test("parsePeersFile locates errors V8 reports without a position, without echoing the file", () => {
  throws(() => parsePeersFile('{"peers": {\n  "a": {"address": ["h",]}\n}}', "x.json"), {
    name: "SyntaxError",
    message: "Cannot parse peers file x.json at line 2, column 25: Unexpected token ']'",
  });
  throws(() => parsePeersFile('{"peers": tru}', "x.json"), {
    message: "Cannot parse peers file x.json at line 1, column 14: Unexpected token '}'",
  });
});

Deno.test("parsePeersFile places a truncated file's error at its end", () => {
  throws(() => parsePeersFile('{"peers": {\n  "a": ', "x.json"), {
    name: "SyntaxError",
    message: "Cannot parse peers file x.json at line 2, column 8: Unexpected end of JSON input",
  });
  throws(() => parsePeersFile("  \n", "x.json"), {
    message: "Cannot parse peers file x.json at line 2, column 1: the file is empty",
  });
});

Deno.test("formatAddress brackets IPv6 hosts only", () => {
  strictEqual(formatAddress("::1", 50051), "[::1]:50051");
  strictEqual(formatAddress("10.0.0.2", 50051), "10.0.0.2:50051");
  strictEqual(formatAddress("mac.local", 1), "mac.local:1");
});
