import type { Context, MiddlewareHandler } from "hono";
import { AccessPolicy, type AccessRules } from "./access_policy.ts";
import { ApiError } from "./api_error.ts";
import { hostOfHeader } from "./_host_names.ts";
import { checkApiKey } from "./check_api_key.ts";
import { needsApiKey } from "./keyless_routes.ts";

const ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS";
const ALLOWED_HEADERS = ["Authorization", "Content-Type"];
const SHOWN_LENGTH = 100;

/**
 * The middleware that keeps web sites and strangers off the API, in this order:
 *
 * 1. a `Host` the {@linkcode AccessPolicy} refuses: 403 `host_not_allowed`;
 * 2. an `Origin` it refuses: 403 `origin_not_allowed`, preflight or not, so a "simple"
 *    cross-site POST is refused rather than run;
 * 3. a CORS preflight from an accepted origin: 204 with the CORS headers;
 * 4. with `apiKey` set, a route outside `KEYLESS_ROUTES` without `Authorization: Bearer
 *    <key>`: 401 `invalid_api_key` with `WWW-Authenticate: Bearer`.
 *
 * Answers to an accepted origin carry `Access-Control-Allow-Origin` (the origin, or `*` when
 * any origin is accepted); every answer it lets through carries `Vary: Origin`. Requests
 * without `Origin` (curl, SDKs, same-origin GETs) skip step 2.
 *
 * @throws {TypeError} When a listed host or origin is not one.
 */
export function accessGuard(rules: AccessRules = {}): MiddlewareHandler {
  const policy = new AccessPolicy(rules);
  const apiKey = rules.apiKey;
  return async function guard(c, next): Promise<Response | void> {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!policy.allowsHost(host)) return hostRefused(host).toResponse(c);
    const origin = c.req.header("origin");
    if (origin !== undefined && !policy.allowsOrigin(origin, host)) {
      return originRefused(origin).toResponse(c);
    }
    const allowOrigin = origin === undefined ? undefined : policy.anyOrigin ? "*" : origin;
    if (
      allowOrigin !== undefined && c.req.method === "OPTIONS" &&
      c.req.header("access-control-request-method") !== undefined
    ) {
      return preflight(c, allowOrigin);
    }
    if (apiKey !== undefined && needsApiKey(c.req.method, c.req.path)) {
      const verdict = await checkApiKey(c.req.header("authorization"), apiKey);
      if (verdict !== "ok") return keyRefused(c, verdict, allowOrigin);
    }
    await next();
    if (allowOrigin !== undefined) c.header("Access-Control-Allow-Origin", allowOrigin);
    c.header("Vary", "Origin", { append: true });
  };
}

function preflight(c: Context, allowOrigin: string): Response {
  const requested = (c.req.header("access-control-request-headers") ?? "")
    .split(",").map((h) => h.trim()).filter((h) => h !== "");
  const known = new Set(ALLOWED_HEADERS.map((h) => h.toLowerCase()));
  const extra = requested.filter((h) => !known.has(h.toLowerCase()));
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": allowOrigin,
      "Access-Control-Allow-Methods": ALLOWED_METHODS,
      // The origin is trusted by now, so the SDK's own headers (x-stainless-*) may pass too.
      "Access-Control-Allow-Headers": [...ALLOWED_HEADERS, ...extra].join(", "),
      "Vary": "Origin, Access-Control-Request-Headers",
    },
  });
}

function keyRefused(
  c: Context,
  verdict: "missing" | "wrong",
  allowOrigin: string | undefined,
): Response {
  const message = verdict === "missing"
    ? "Cannot serve the request without an API key: this node was started with --api-key, " +
      "so send the header Authorization: Bearer <key>"
    : "Incorrect API key provided: the bearer token does not match this node's --api-key";
  const response = new ApiError(401, message, { code: "invalid_api_key" }).toResponse(c);
  response.headers.set("WWW-Authenticate", "Bearer");
  // An accepted page may read the 401, to ask its user for the key.
  if (allowOrigin !== undefined) response.headers.set("Access-Control-Allow-Origin", allowOrigin);
  response.headers.append("Vary", "Origin");
  return response;
}

function hostRefused(host: string): ApiError {
  const name = hostOfHeader(host);
  const shown = show(name ?? host);
  const detail = name === null
    ? "it is not a host name or address (only --api-hosts * accepts it)"
    : "it is neither loopback nor a name or address of this node (start the node with " +
      `--api-hosts ${shown} to accept it)`;
  return new ApiError(403, `Cannot serve host ${shown}: ${detail}`, { code: "host_not_allowed" });
}

function originRefused(origin: string): ApiError {
  const shown = show(origin);
  return new ApiError(
    403,
    `Cannot serve origin ${shown}: it is neither this node's own page nor loopback ` +
      `(start the node with --api-origins ${shown} to accept it)`,
    { code: "origin_not_allowed" },
  );
}

function show(text: string): string {
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}...` : text;
}
