/**
 * The UDP discovery datagram: a small versioned JSON object a node broadcasts on each of
 * its interfaces (docs/PROTOCOL.md, section 10). Encoding and parsing are pure; parsing
 * trusts nothing and says why it refuses.
 * @module
 */
import type { DeviceCapabilities } from "../topology/device_capabilities.ts";
import { isValidNodeId } from "../topology/node_id.ts";
import { INTERFACE_TYPES, type InterfaceType, MAX_INTERFACE_PRIORITY } from "./interface_type.ts";
import { formatIpv4, parseIpv4 } from "./ipv4.ts";

/** The `type` every announcement carries, so other traffic on the port is told apart. */
export const ANNOUNCEMENT_TYPE = "exo-node/announce";

/** Version of the datagram format this build writes and reads. */
export const ANNOUNCEMENT_VERSION = 1;

/**
 * Largest datagram accepted or sent, in bytes: fits one Ethernet frame with its IP and
 * UDP headers (1500 - 28), so an announcement is never fragmented.
 */
export const MAX_ANNOUNCEMENT_BYTES = 1200;

/** Longest `model`, `chip` and interface name carried, in characters. */
export const MAX_ANNOUNCED_TEXT = 128;

const INSTANCE = /^[0-9a-f]{16,64}$/;
const INTERFACE_NAME = /^[\x21-\x7e]{1,64}$/;
const TYPE_WORD = /^[a-z][a-z0-9-]{0,31}$/;

/** What one announcement says. */
export interface Announcement {
  /** The sender's node id. */
  nodeId: string;
  /**
   * Random per process start (hex): tells a restarted node from the old one, and two
   * nodes that share an id apart.
   */
  instance: string;
  /** The TCP wire protocol version the sender speaks (docs/PROTOCOL.md). */
  protocol: number;
  /** The sender's TCP node port. */
  nodePort: number;
  /** The IPv4 address of the interface the datagram was sent from. */
  address: string;
  /** That interface: its name on the sender and its type. */
  interface: { name: string; type: InterfaceType };
  /** The sender's rank of that interface (0-5, higher is better). */
  priority: number;
  capabilities: DeviceCapabilities;
}

/** Why a datagram was refused. */
export type AnnouncementProblem =
  | "oversize"
  | "not_json"
  | "not_announcement"
  | "wrong_version"
  | "invalid";

/** The outcome of {@linkcode parseAnnouncement}. */
export type ParsedAnnouncement =
  | { ok: true; announcement: Announcement }
  | { ok: false; problem: AnnouncementProblem; detail: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes an announcement. Model and chip names are shortened to fit
 * {@linkcode MAX_ANNOUNCEMENT_BYTES}; the result always parses back.
 * @throws {RangeError} when it cannot fit even so (never with valid input).
 */
export function encodeAnnouncement(announcement: Announcement): Uint8Array {
  let limit = MAX_ANNOUNCED_TEXT;
  for (;;) {
    const bytes = encoder.encode(JSON.stringify(toWire(announcement, limit)));
    if (bytes.length <= MAX_ANNOUNCEMENT_BYTES) return bytes;
    if (limit === 0) {
      throw new RangeError(
        `Cannot encode announcement: ${bytes.length} bytes exceed ${MAX_ANNOUNCEMENT_BYTES}`,
      );
    }
    limit = Math.floor(limit / 2);
  }
}

function toWire(a: Announcement, textLimit: number): Record<string, unknown> {
  const clip = (text: string) => [...text].slice(0, textLimit).join("");
  return {
    type: ANNOUNCEMENT_TYPE,
    v: ANNOUNCEMENT_VERSION,
    protocol: a.protocol,
    node_id: a.nodeId,
    instance: a.instance,
    node_port: a.nodePort,
    address: a.address,
    interface: { name: a.interface.name, type: a.interface.type },
    priority: a.priority,
    capabilities: {
      model: clip(a.capabilities.model),
      chip: clip(a.capabilities.chip),
      memory: a.capabilities.memory,
      flops: { ...a.capabilities.flops },
    },
  };
}

/**
 * Parses one datagram. Refuses, with a problem and a detail for the log: more than
 * {@linkcode MAX_ANNOUNCEMENT_BYTES} bytes, bytes that are not UTF-8 JSON, JSON that is
 * not an exo-node announcement, another format version, and any missing or invalid
 * field. Unknown fields are ignored, so version 1 can grow.
 */
export function parseAnnouncement(bytes: Uint8Array): ParsedAnnouncement {
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) {
    return refuse("oversize", `${bytes.length} bytes exceed ${MAX_ANNOUNCEMENT_BYTES}`);
  }
  let root: unknown;
  try {
    root = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    return refuse("not_json", error instanceof Error ? error.message : String(error));
  }
  if (!isObject(root) || root.type !== ANNOUNCEMENT_TYPE) {
    return refuse("not_announcement", `"type" is not "${ANNOUNCEMENT_TYPE}"`);
  }
  if (root.v !== ANNOUNCEMENT_VERSION) {
    return refuse(
      "wrong_version",
      `format version ${JSON.stringify(root.v)} (this node reads ${ANNOUNCEMENT_VERSION})`,
    );
  }
  try {
    return { ok: true, announcement: readFields(root) };
  } catch (error) {
    if (error instanceof FieldError) return refuse("invalid", error.message);
    throw error;
  }
}

class FieldError extends Error {}

function readFields(root: Record<string, unknown>): Announcement {
  const nodeId = root.node_id;
  if (typeof nodeId !== "string" || !isValidNodeId(nodeId)) fail("node_id", "not a node id");
  const instance = root.instance;
  if (typeof instance !== "string" || !INSTANCE.test(instance)) {
    fail("instance", "not 16-64 lowercase hex digits");
  }
  const protocol = integer(root.protocol, "protocol", 1, 65535);
  const nodePort = integer(root.node_port, "node_port", 1, 65535);
  const address = root.address;
  const parsed = typeof address === "string" ? parseIpv4(address) : null;
  if (parsed === null || formatIpv4(parsed) !== address) fail("address", "not an IPv4 address");
  const iface = root.interface;
  if (!isObject(iface)) fail("interface", "not an object");
  const name = iface.name;
  if (typeof name !== "string" || !INTERFACE_NAME.test(name)) {
    fail("interface.name", "not 1-64 printable ASCII characters");
  }
  const type = iface.type;
  if (typeof type !== "string" || !TYPE_WORD.test(type)) fail("interface.type", "not a type");
  const priority = integer(root.priority, "priority", 0, MAX_INTERFACE_PRIORITY);
  return {
    nodeId,
    instance,
    protocol,
    nodePort,
    address,
    // A type a later build adds is ranked as "other" here rather than refused.
    interface: { name, type: knownType(type) },
    priority,
    capabilities: readCapabilities(root.capabilities),
  };
}

function readCapabilities(value: unknown): DeviceCapabilities {
  if (!isObject(value)) fail("capabilities", "not an object");
  const text = (field: "model" | "chip") => {
    const v = value[field];
    if (typeof v !== "string" || [...v].length > MAX_ANNOUNCED_TEXT) {
      fail(`capabilities.${field}`, `not a string of at most ${MAX_ANNOUNCED_TEXT} characters`);
    }
    return v;
  };
  const flops = value.flops;
  if (!isObject(flops)) fail("capabilities.flops", "not an object");
  return {
    model: text("model"),
    chip: text("chip"),
    memory: nonNegative(value.memory, "capabilities.memory"),
    flops: {
      fp32: nonNegative(flops.fp32, "capabilities.flops.fp32"),
      fp16: nonNegative(flops.fp16, "capabilities.flops.fp16"),
      int8: nonNegative(flops.int8, "capabilities.flops.int8"),
    },
  };
}

function knownType(type: string): InterfaceType {
  const known = INTERFACE_TYPES.find((t) => t === type);
  return known === undefined || known === "loopback" ? "other" : known;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `not an integer from ${min} to ${max}`);
  }
  return value;
}

function nonNegative(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(field, "not a finite number >= 0");
  }
  return value;
}

function fail(field: string, reason: string): never {
  throw new FieldError(`${field}: ${reason}`);
}

function refuse(problem: AnnouncementProblem, detail: string): ParsedAnnouncement {
  return { ok: false, problem, detail };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
