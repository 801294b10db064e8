/**
 * How host names are read and compared by the access rules: lowercase, no trailing dot,
 * IPv6 in brackets, IPv4 as a dotted quad (the forms a browser puts in `Host` and `Origin`).
 * @module
 */

const HOST_SYNTAX = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/;
const HOST_AND_PORT = /^(\[[^\]]*\]|[^:\[\]]*)(?::\d*)?$/;
const LOOPBACK_IPV4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * A host name or address in its compared form, or null when it is not one. Takes bare IPv6
 * (`::1`) as well as bracketed (`[::1]`); takes no port.
 */
export function hostNameOf(raw: string): string | null {
  let name = raw.trim().toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  if (!name.startsWith("[") && name.includes(":")) name = `[${name}]`;
  if (!HOST_SYNTAX.test(name)) return null;
  try {
    return new URL(`http://${name}`).hostname;
  } catch {
    return null;
  }
}

/** The host of a `Host` header (`name`, `name:port`, `[v6]:port`) without its port, or null. */
export function hostOfHeader(header: string): string | null {
  const match = HOST_AND_PORT.exec(header.trim());
  return match === null ? null : hostNameOf(match[1]);
}

/** Whether a compared-form host is this machine's loopback: localhost, *.localhost, 127/8, ::1. */
export function isLoopbackName(name: string): boolean {
  return name === "localhost" || name.endsWith(".localhost") || name === "[::1]" ||
    LOOPBACK_IPV4.test(name);
}
