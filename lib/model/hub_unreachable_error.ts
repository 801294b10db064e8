/**
 * Why the Hugging Face hub (or the storage behind it) could not be reached, told apart so
 * that a user reads the cause ("the name does not resolve") instead of "fetch failed".
 *
 * @module
 */

/** What went wrong on the way to the hub. */
export type HubFailure =
  | "dns"
  | "refused"
  | "tls"
  | "timeout"
  | "reset"
  | "blocked"
  | "http"
  | "network";

/** The hub could not be reached, or answered with a server error. */
export class HubUnreachableError extends Error {
  /** The host tried (no scheme, path or query). */
  readonly host: string;
  /** The kind of failure. */
  readonly failure: HubFailure;
  /** The HTTP status, for `failure` "http". */
  readonly status: number | null;
  /** The cause in words, without the host: "the name huggingface.co does not resolve (...)". */
  readonly detail: string;

  /** Builds the error from the host and the failure's kind and detail. */
  constructor(
    host: string,
    failure: HubFailure,
    detail: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(`Cannot reach the hub at ${host}: ${detail}`, { cause: options.cause });
    this.name = "HubUnreachableError";
    this.host = host;
    this.failure = failure;
    this.status = options.status ?? null;
    this.detail = detail;
  }
}

/**
 * Reads a failed fetch (Deno's `TypeError: fetch failed` with the transport error as its
 * cause, or an abort by a timeout) into a {@linkcode HubUnreachableError} for `url`'s host.
 */
export function hubFetchFailure(url: string, error: unknown): HubUnreachableError {
  const host = hostOf(url);
  const text = errorText(error);
  const [failure, detail] = classify(text, host);
  return new HubUnreachableError(host, failure, detail, { cause: error });
}

/** The hub answered a server error (5xx) or asked to slow down (429). */
export function hubHttpFailure(url: string, status: number): HubUnreachableError {
  const host = hostOf(url);
  const detail = status === 429
    ? "it answered HTTP 429 (too many requests); try again in a while"
    : `it answered HTTP ${status} (a server error on the hub's side); try again in a while`;
  return new HubUnreachableError(host, "http", detail, { status });
}

/** A URL's host (with its port when not the default), for messages: never a path or query. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the hub";
  }
}

/** The error's message and those of its causes, lower case. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" | ").toLowerCase();
}

function classify(text: string, host: string): [HubFailure, string] {
  const name = host.replace(/:\d+$/, "");
  if (text.includes("timeouterror") || text.includes("timed out") || text.includes("timeout")) {
    return ["timeout", "no answer in time (a slow or filtered network, or a proxy in the way)"];
  }
  if (
    text.includes("dns error") || text.includes("failed to lookup") ||
    text.includes("name or service not known") || text.includes("no such host") ||
    text.includes("nodename nor servname")
  ) {
    return ["dns", `the name ${name} does not resolve (no DNS answer: offline, or DNS blocked)`];
  }
  if (text.includes("connection refused")) {
    return [
      "refused",
      "the connection was refused (nothing listens there, or a firewall refuses it)",
    ];
  }
  if (text.includes("certificate") || text.includes("tls") || text.includes("handshake")) {
    return [
      "tls",
      "its TLS certificate was not accepted (a proxy that inspects TLS? set DENO_TLS_CA_STORE=system to trust the system's certificates)",
    ];
  }
  if (text.includes("are blocked")) {
    return ["blocked", "the runtime refuses requests to that port"];
  }
  if (
    text.includes("connection closed") || text.includes("connection reset") ||
    text.includes("broken pipe")
  ) {
    return ["reset", "the connection was closed before an answer"];
  }
  if (text.includes("network is unreachable") || text.includes("no route to host")) {
    return ["network", "no route to it (the network is down or unreachable)"];
  }
  const first = text.split(" | ").pop() ?? text;
  return ["network", `the request failed (${first.replace(/https?:\/\/\S+/g, "<url>")})`];
}
