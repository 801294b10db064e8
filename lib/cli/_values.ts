/**
 * Parsers for flag values. Each takes the raw text and returns the value or throws a
 * RangeError whose message is the detail after "Invalid value for --flag: ".
 * @module
 */
import { isValidNodeId, NODE_ID_RULE } from "./node_id.ts";
import { INTERFACE_TYPES, type InterfaceType } from "../discovery/interface_type.ts";

const WHOLE_NUMBER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const PLAIN = /^[\w.+-]+$/;
const SHOWN_LENGTH = 40;
const ORIGIN = /^https?:\/\/[^/?#@\s]+\/?$/i;
const HOST_NAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)$/;
const BEARER_TOKEN = /^[\x21-\x7e]+$/;

/**
 * setTimeout fires at once for delays above 2^31-1 ms, so a longer timeout would silently
 * become no timeout at all.
 */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Renders a raw value for a one-line message: plain words as they are, anything else quoted. */
export function show(raw: string): string {
  if (PLAIN.test(raw) && raw.length <= SHOWN_LENGTH) return raw;
  const clipped = raw.length > SHOWN_LENGTH ? raw.slice(0, SHOWN_LENGTH) + "..." : raw;
  return JSON.stringify(clipped);
}

function wholeNumber(raw: string, min: number, max: number, problem: string): number {
  const value = Number(raw);
  if (!WHOLE_NUMBER.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${show(raw)} ${problem}`);
  }
  return value;
}

/** A TCP port; 0 asks the system for a free one. */
export function parsePort(raw: string): number {
  return wholeNumber(raw, 0, 65535, "is not a port (1-65535, or 0 for a free port)");
}

/** A UDP port to listen on or send to: 0 (any port) would make no sense for either. */
export function parseUdpPort(raw: string): number {
  return wholeNumber(raw, 1, 65535, "is not a UDP port (1-65535)");
}

/** Shortest and longest time between two announcements, in seconds. */
export const BROADCAST_INTERVAL_RANGE = { min: 0.1, max: 3600 } as const;

/**
 * Seconds between announcements: at least a tenth of a second, so a typo cannot flood the
 * network, and at most an hour.
 */
export function parseBroadcastInterval(raw: string): number {
  const value = Number(raw);
  const { min, max } = BROADCAST_INTERVAL_RANGE;
  if (!DECIMAL.test(raw) || !(value >= min && value <= max)) {
    throw new RangeError(`${show(raw)} is not a number of seconds from ${min} to ${max}`);
  }
  return value;
}

/** The interface types `--interface-type-filter` may name (loopback is never announced on). */
export const FILTERABLE_INTERFACE_TYPES: readonly InterfaceType[] = INTERFACE_TYPES.filter((t) =>
  t !== "loopback"
);

/** Comma-separated interface types, trimmed and lowercased; duplicates are dropped. */
export function parseInterfaceTypes(raw: string): InterfaceType[] {
  const entries = raw.split(",").map((entry) => entry.trim().toLowerCase());
  if (entries.includes("")) throw new RangeError(`${show(raw)} has an empty entry`);
  const types = entries.map((entry) => {
    const type = FILTERABLE_INTERFACE_TYPES.find((t) => t === entry);
    if (type === undefined) {
      throw new RangeError(
        `${show(entry)} is not an interface type (expected ${listOf(FILTERABLE_INTERFACE_TYPES)})`,
      );
    }
    return type;
  });
  return [...new Set(types)];
}

/** Returns a parser of whole numbers no smaller than `min`. */
export function wholeNumberFrom(min: number): (raw: string) => number {
  return (raw) => wholeNumber(raw, min, Number.MAX_SAFE_INTEGER, `is not a whole number >= ${min}`);
}

/** A number above zero, fractions allowed. */
export function parsePositive(raw: string): number {
  const value = Number(raw);
  if (!DECIMAL.test(raw) || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${show(raw)} is not a number > 0`);
  }
  return value;
}

/** A timeout in seconds: above zero and short enough for a timer. */
export function parseSeconds(raw: string): number {
  const value = Number(raw);
  if (!DECIMAL.test(raw) || !(value > 0)) {
    throw new RangeError(`${show(raw)} is not a number of seconds > 0`);
  }
  if (value > MAX_TIMEOUT_SECONDS) {
    throw new RangeError(`${show(raw)} is more than ${MAX_TIMEOUT_SECONDS} seconds`);
  }
  return value;
}

/** Free text that is not only blanks. */
export function parseText(raw: string): string {
  if (raw.trim() === "") throw new RangeError(`${show(raw)} is blank`);
  return raw;
}

/** A host name or address: no blanks. */
export function parseHost(raw: string): string {
  if (/\s/.test(raw)) throw new RangeError(`${show(raw)} is not a host name or address`);
  return raw;
}

/** A node id (see `isValidNodeId`). */
export function parseNodeId(raw: string): string {
  if (!isValidNodeId(raw)) {
    throw new RangeError(`${show(raw)} is not a valid node id (${NODE_ID_RULE})`);
  }
  return raw;
}

/** Comma-separated node ids, trimmed; duplicates are dropped. */
export function parseNodeIdList(raw: string): string[] {
  const ids = raw.split(",").map((id) => id.trim());
  if (ids.includes("")) throw new RangeError(`${show(raw)} has an empty entry`);
  return [...new Set(ids.map(parseNodeId))];
}

/**
 * Comma-separated origins for `--api-origins`, each `http(s)://host[:port]` (a trailing
 * slash dropped), lowercased as browsers send them; `*` alone accepts any origin.
 */
export function parseOriginList(raw: string): string[] {
  return entriesOf(raw, (entry) => {
    if (!ORIGIN.test(entry) || !URL.canParse(entry)) {
      throw new RangeError(
        `${show(entry)} is not an origin (write http://host or https://host:port, or *)`,
      );
    }
    return new URL(entry).origin;
  });
}

/**
 * Comma-separated host names or addresses for `--api-hosts`, without scheme or port (a
 * `Host` header's port is not checked), lowercased; `*` alone accepts any host.
 */
export function parseHostList(raw: string): string[] {
  return entriesOf(raw, (entry) => {
    const host = entry.toLowerCase();
    const bracketed = !host.startsWith("[") && host.includes(":") ? `[${host}]` : host;
    if (!HOST_NAME.test(bracketed) || !URL.canParse(`http://${bracketed}`)) {
      throw new RangeError(
        `${show(entry)} is not a host name or address (write it without scheme or port, or *)`,
      );
    }
    return host;
  });
}

/** A key for `--api-key`: printable ASCII without spaces, as a bearer token needs. */
export function parseApiKey(raw: string): string {
  // The key is a secret, so the message never repeats it.
  if (!BEARER_TOKEN.test(raw)) {
    throw new RangeError("the key must be printable ASCII without spaces (a bearer token)");
  }
  return raw;
}

function entriesOf(raw: string, parse: (entry: string) => string): string[] {
  const entries = raw.split(",").map((entry) => entry.trim());
  if (entries.includes("")) throw new RangeError(`${show(raw)} has an empty entry`);
  if (entries.includes("*")) {
    if (entries.length > 1) throw new RangeError(`${show(raw)} mixes * with other entries`);
    return ["*"];
  }
  return [...new Set(entries.map(parse))];
}

/**
 * Returns a parser that accepts one of `choices`. `known` holds values that are meaningful
 * elsewhere (in exo) with the reason this build refuses them, so users get that reason
 * rather than "not a ...".
 */
export function choiceOf<T extends string>(
  noun: string,
  choices: readonly T[],
  known: Readonly<Record<string, string>> = {},
): (raw: string) => T {
  return (raw) => {
    const value = raw.toLowerCase();
    const choice = choices.find((c) => c === value);
    if (choice !== undefined) return choice;
    if (Object.hasOwn(known, value)) throw new RangeError(`${show(raw)} ${known[value]}`);
    throw new RangeError(`${show(raw)} is not ${noun} (expected ${listOf(choices)})`);
  };
}

function listOf(words: readonly string[]): string {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}
