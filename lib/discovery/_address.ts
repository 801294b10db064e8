/** An address split into host and optional port, or why it could not be. */
export type SplitAddress =
  | { ok: true; host: string; port?: number }
  | { ok: false; reason: string; outOfRange: boolean };

const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?$/;
const HOSTNAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;

/**
 * Splits "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address such as "::1"
 * (which can carry no port, since its colons are ambiguous).
 */
export function splitAddress(address: string): SplitAddress {
  const bad = { ok: false, outOfRange: false } as const;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(address);
  if (bracketed) {
    const [, host, port] = bracketed;
    if (!IPV6.test(host)) return { ...bad, reason: `"${host}" is not an IPv6 address` };
    return withPort(host, port);
  }
  const colons = address.split(":").length - 1;
  if (colons >= 2) {
    if (!IPV6.test(address)) return { ...bad, reason: `"${address}" is not a host or host:port` };
    return { ok: true, host: address };
  }
  const [host, port] = address.split(":");
  if (!HOSTNAME.test(host)) return { ...bad, reason: `"${address}" is not a host or host:port` };
  return withPort(host, port);
}

function withPort(host: string, port: string | undefined): SplitAddress {
  if (port === undefined) return { ok: true, host };
  if (!/^\d{1,5}$/.test(port)) {
    return { ok: false, outOfRange: false, reason: `port "${port}" is not a number` };
  }
  const value = Number(port);
  if (value < 1 || value > 65535) {
    return { ok: false, outOfRange: true, reason: `${value} is not a port (1-65535)` };
  }
  return { ok: true, host, port: value };
}
