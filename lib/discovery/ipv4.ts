/**
 * IPv4 address arithmetic for UDP discovery: parsing, netmasks and broadcast addresses.
 * Pure functions; addresses are dotted quads, numbers are unsigned 32-bit.
 * @module
 */

const OCTET = /^(?:0|[1-9]\d{0,2})$/;

/**
 * Parses a dotted-quad IPv4 address ("192.168.1.20") into an unsigned 32-bit number, or
 * returns null. Octets above 255, leading zeros (ambiguous: octal to some parsers), fewer
 * or more than four parts and blanks are all refused.
 */
export function parseIpv4(text: string): number | null {
  if (typeof text !== "string") return null;
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Writes an unsigned 32-bit number as a dotted quad. */
export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/**
 * The prefix length of a netmask ("255.255.252.0" → 22), or null when the text is not an
 * IPv4 address or its one bits are not contiguous.
 */
export function prefixLength(netmask: string): number | null {
  const mask = parseIpv4(netmask);
  if (mask === null) return null;
  const ones = Math.clz32(~mask >>> 0);
  // A valid mask is `ones` one bits followed only by zero bits.
  const expected = ones === 0 ? 0 : (0xffff_ffff << (32 - ones)) >>> 0;
  return mask === expected ? ones : null;
}

/**
 * The directed broadcast address of the subnet `address` lies in, computed from its
 * netmask: 192.168.1.20/255.255.255.0 → 192.168.1.255, 10.1.2.3/255.255.0.0 → 10.1.255.255.
 *
 * Returns null where a subnet has no broadcast address: point-to-point links (a /32
 * netmask, as VPN and tunnel interfaces have, and /31 links, RFC 3021), a /0 mask, and
 * input that is not an address with a contiguous netmask.
 */
export function broadcastAddress(address: string, netmask: string): string | null {
  const host = parseIpv4(address);
  const prefix = prefixLength(netmask);
  if (host === null || prefix === null || prefix === 0 || prefix >= 31) return null;
  const hostBits = (0xffff_ffff >>> prefix) >>> 0;
  return formatIpv4((host | hostBits) >>> 0);
}

/** Whether `host` lies in the subnet of `address` with `netmask` (false for bad input). */
export function inSubnet(host: string, address: string, netmask: string): boolean {
  const a = parseIpv4(host);
  const b = parseIpv4(address);
  const prefix = prefixLength(netmask);
  if (a === null || b === null || prefix === null) return false;
  if (prefix === 0) return true;
  const mask = (0xffff_ffff << (32 - prefix)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** Whether `address` is in 127.0.0.0/8. */
export function isLoopbackIpv4(address: string): boolean {
  const value = parseIpv4(address);
  return value !== null && value >>> 24 === 127;
}
