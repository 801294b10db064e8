import { type DeviceCapabilities, UNKNOWN_CAPABILITIES } from "../topology/device_capabilities.ts";
import { isValidNodeId } from "../topology/node_id.ts";
import { splitAddress } from "./_address.ts";
import { jsonSyntaxErrorMessage } from "./_json_syntax_error.ts";

/** One peer of a peers file: where to dial it and what it says about its hardware. */
export interface PeerEntry {
  id: string;
  /** Host name, IPv4 address or IPv6 address (without brackets). */
  host: string;
  port: number;
  /** From the file, or UNKNOWN_CAPABILITIES' values for what the file leaves out. */
  capabilities: DeviceCapabilities;
  /** Whether the file had a `device_capabilities` object for this peer. */
  capabilitiesKnown: boolean;
}

type Json = unknown;

/**
 * Parses a peers file in exo's format:
 * `{"peers": {"<id>": {"address": ..., "port"?: ..., "device_capabilities"?: {...}}}}`.
 *
 * The address is "host", "host:port", "[v6]:port" or a bare IPv6 address, with the port
 * either in it or in `port` (both only if they agree). `device_capabilities` is optional,
 * and so is each of its fields. The entry for `selfId` is skipped, since a node does not
 * dial itself, and unknown keys are ignored. Peers are returned ordered by id.
 *
 * @param path Names the file in error messages only; nothing is read.
 * @throws {SyntaxError} for invalid JSON, naming the line and column.
 * @throws {TypeError} for a missing field, a wrong type or an invalid peer id, naming the
 * JSON path ("peers.mac2.address").
 * @throws {RangeError} for a number out of range, such as a port above 65535.
 */
export function parsePeersFile(text: string, path: string, selfId?: string): PeerEntry[] {
  let root: Json;
  try {
    root = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new SyntaxError(jsonSyntaxErrorMessage(`Cannot parse peers file ${path}`, text, error), {
      cause: error,
    });
  }
  const fail = (at: string[], reason: string, kind: ErrorConstructor = TypeError): never => {
    throw new kind(`Cannot parse peers file ${path}: ${formatJsonPath(at)}: ${reason}`);
  };

  if (!isObject(root)) return fail([], `expected an object, got ${describe(root)}`);
  if (!("peers" in root)) return fail(["peers"], "missing (expected an object of peers by id)");
  const peers = root.peers;
  if (!isObject(peers)) return fail(["peers"], `expected an object, got ${describe(peers)}`);

  const entries: PeerEntry[] = [];
  for (const [id, peer] of Object.entries(peers)) {
    const at = ["peers", id];
    if (!isValidNodeId(id)) {
      fail(at, `${JSON.stringify(id)} is not a valid node id (1-64 of A-Z a-z 0-9 . _ -)`);
    }
    if (id === selfId) continue;
    if (!isObject(peer)) return fail(at, `expected an object, got ${describe(peer)}`);
    entries.push({ id, ...parseEndpoint(peer, at, fail), ...parseCapabilities(peer, at, fail) });
  }
  return entries.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Writes a host and port as one address, bracketing IPv6 hosts: "[::1]:50051". */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

type Fail = (at: string[], reason: string, kind?: ErrorConstructor) => never;

function parseEndpoint(
  peer: Record<string, Json>,
  at: string[],
  fail: Fail,
): { host: string; port: number } {
  const address = peer.address;
  if (address === undefined) return fail(at, 'missing "address"');
  if (typeof address !== "string") {
    return fail([...at, "address"], `expected a string, got ${describe(address)}`);
  }
  const parsed = splitAddress(address);
  if (!parsed.ok) {
    return fail([...at, "address"], parsed.reason, parsed.outOfRange ? RangeError : TypeError);
  }

  let port = parsed.port;
  if (peer.port !== undefined) {
    const field = peer.port;
    if (typeof field !== "number") {
      return fail([...at, "port"], `expected an integer, got ${describe(field)}`);
    }
    if (!isPort(field)) {
      return fail([...at, "port"], `${field} is not a port (1-65535)`, RangeError);
    }
    if (port !== undefined && port !== field) {
      fail([...at, "port"], `${field} disagrees with port ${port} in address "${address}"`);
    }
    port = field;
  }
  if (port === undefined) {
    return fail(at, 'no port (give "address": "host:port" or a "port" field)');
  }
  return { host: parsed.host, port };
}

function parseCapabilities(
  peer: Record<string, Json>,
  at: string[],
  fail: Fail,
): { capabilities: DeviceCapabilities; capabilitiesKnown: boolean } {
  const capabilities: DeviceCapabilities = {
    ...UNKNOWN_CAPABILITIES,
    flops: { ...UNKNOWN_CAPABILITIES.flops },
  };
  const given = peer.device_capabilities;
  if (given === undefined) return { capabilities, capabilitiesKnown: false };
  const where = [...at, "device_capabilities"];
  if (!isObject(given)) return fail(where, `expected an object, got ${describe(given)}`);

  for (const key of ["model", "chip"] as const) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      fail([...where, key], `expected a string, got ${describe(value)}`);
    }
    capabilities[key] = value;
  }
  if (given.memory !== undefined) {
    capabilities.memory = nonNegative(given.memory, [...where, "memory"], "MB", fail);
  }
  const flops = given.flops;
  if (flops !== undefined) {
    if (!isObject(flops)) fail([...where, "flops"], `expected an object, got ${describe(flops)}`);
    for (const key of ["fp32", "fp16", "int8"] as const) {
      const value = flops[key];
      if (value !== undefined) {
        capabilities.flops[key] = nonNegative(value, [...where, "flops", key], "TFLOPS", fail);
      }
    }
  }
  return { capabilities, capabilitiesKnown: true };
}

function nonNegative(value: Json, at: string[], unit: string, fail: Fail): number {
  if (typeof value !== "number") return fail(at, `expected a number, got ${describe(value)}`);
  if (!(value >= 0)) return fail(at, `${value} is not a number of ${unit} >= 0`, RangeError);
  return value;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}

// Plain keys join with dots; any other key is quoted, so "peers.mac.1" cannot be misread.
function formatJsonPath(segments: string[]): string {
  if (segments.length === 0) return "top level";
  return segments
    .map((key, i) =>
      /^[A-Za-z0-9_-]+$/.test(key) ? (i === 0 ? key : `.${key}`) : `[${JSON.stringify(key)}]`
    )
    .join("");
}
