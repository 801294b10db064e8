import { hostNameOf, hostOfHeader, isLoopbackName } from "./_host_names.ts";

const ORIGIN_SYNTAX = /^https?:\/\/[^/?#@\s]+\/?$/i;

/** Who may call the HTTP API beyond the defaults (see {@linkcode AccessPolicy}). */
export interface AccessRules {
  /** This machine's names and addresses, accepted as `Host` like loopback is. */
  ownHosts?: readonly string[];
  /** `--api-hosts`: further `Host` names or addresses; `"*"` accepts any host. */
  hosts?: readonly string[];
  /** `--api-origins`: further exact origins (`http://mac1.local:3000`); `"*"` accepts any. */
  origins?: readonly string[];
  /** `--api-key`: the bearer token every route but the open ones needs. */
  apiKey?: string;
}

/**
 * The origin and host decisions of the HTTP API, without I/O. A `Host` is accepted when it
 * is loopback, one of this machine's names or addresses, or listed, which stops DNS
 * rebinding (a site whose name resolves to this machine). An `Origin` is accepted when it is
 * the page's own (`http://` or `https://` and the `Host` header), loopback on any port, or
 * listed, so other web sites the user visits cannot drive the API.
 */
export class AccessPolicy {
  #anyHost: boolean;
  #hosts: Set<string>;
  #anyOrigin: boolean;
  #origins: Set<string>;

  /** @throws {TypeError} When a listed host or origin is not one. */
  constructor(rules: AccessRules = {}) {
    const hosts = [...rules.ownHosts ?? [], ...rules.hosts ?? []];
    this.#anyHost = hosts.includes("*");
    this.#hosts = new Set(hosts.filter((h) => h !== "*").map(requireHostName));
    const origins = rules.origins ?? [];
    this.#anyOrigin = origins.includes("*");
    this.#origins = new Set(origins.filter((o) => o !== "*").map(requireOrigin));
  }

  /** Whether any origin is accepted (`--api-origins *`), so CORS may answer `*`. */
  get anyOrigin(): boolean {
    return this.#anyOrigin;
  }

  /** Whether a request with this `Host` header (port ignored) is served. */
  allowsHost(header: string): boolean {
    if (this.#anyHost) return true;
    const name = hostOfHeader(header);
    return name !== null && (isLoopbackName(name) || this.#hosts.has(name));
  }

  /** Whether a request from `origin` to a server reached as `host` (its `Host` header) is served. */
  allowsOrigin(origin: string, host: string): boolean {
    if (this.#anyOrigin) return true;
    const parsed = webOriginOf(origin);
    if (parsed === null) return false;
    return isLoopbackName(parsed.hostname) || this.#origins.has(parsed.origin) ||
      parsed.origin === webOriginOf(`http://${host}`)?.origin ||
      parsed.origin === webOriginOf(`https://${host}`)?.origin;
  }
}

/** An http(s) origin (a trailing slash allowed), normalised; null for anything else. */
export function webOriginOf(raw: string): { origin: string; hostname: string } | null {
  const text = raw.trim();
  if (!ORIGIN_SYNTAX.test(text)) return null;
  try {
    const url = new URL(text);
    return { origin: url.origin, hostname: url.hostname };
  } catch {
    return null;
  }
}

function requireHostName(raw: string): string {
  const name = hostNameOf(raw);
  if (name === null) {
    throw new TypeError(`Cannot build the access policy: ${JSON.stringify(raw)} is not a host`);
  }
  return name;
}

function requireOrigin(raw: string): string {
  const parsed = webOriginOf(raw);
  if (parsed === null) {
    throw new TypeError(
      `Cannot build the access policy: ${JSON.stringify(raw)} is not an http(s) origin`,
    );
  }
  return parsed.origin;
}
