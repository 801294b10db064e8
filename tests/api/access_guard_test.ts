import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import type { Hono } from "hono";
import type { AccessRules } from "../../lib/api/access_policy.ts";
import type { DownloadDeps } from "../../lib/api/downloads_route.ts";
import { TEST_LIMITS, testApp } from "./_test_app.ts";

const KEY = "sk-local-0123456789";
const OWN = ["mac1", "mac1.local", "192.168.1.20", "fe80::1"];
const EVIL = "http://evil.example";

/** Download deps that record what reached them. */
function recordingDownloads(): { deps: DownloadDeps; calls: string[] } {
  const calls: string[] = [];
  const deps: DownloadDeps = {
    progress: () => {
      calls.push("progress");
      return [];
    },
    prefetch: (model) => {
      calls.push(`prefetch ${model}`);
      return Promise.resolve({ model, startLayer: 0, endLayer: 1, shards: [] });
    },
    remove: (model) => {
      calls.push(`remove ${model}`);
      return Promise.resolve(10);
    },
  };
  return { deps, calls };
}

function appWith(access?: AccessRules): { app: Hono; calls: string[] } {
  const { deps, calls } = recordingDownloads();
  const { app } = testApp(TEST_LIMITS, { access, downloads: deps });
  return { app, calls };
}

function send(
  app: Hono,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Response> {
  const url = path.startsWith("http") ? path : `http://localhost${path}`;
  return Promise.resolve(app.request(url, { method, headers, body }));
}

function preflight(app: Hono, origin: string, method = "POST", path = "/v1/chat/completions") {
  return send(app, "OPTIONS", path, {
    origin,
    "access-control-request-method": method,
    "access-control-request-headers": "authorization, content-type, x-stainless-os",
  });
}

async function errorOf(response: Response) {
  return (await response.json()).error;
}

const REQUESTS: [method: string, path: string, body?: string][] = [
  ["GET", "/v1/models"],
  ["POST", "/download", JSON.stringify({ model: "test-org/tiny" })],
  ["DELETE", "/models/test-org/tiny"],
];

Deno.test("a request from another web site is refused with 403 origin_not_allowed on GET, POST and DELETE", async () => {
  const { app, calls } = appWith();
  for (const [method, path, body] of REQUESTS) {
    const response = await send(app, method, path, { origin: EVIL }, body);
    equal(response.status, 403, `${method} ${path}`);
    equal(response.headers.get("access-control-allow-origin"), null);
    deepStrictEqual(await response.json(), {
      error: {
        message: "Cannot serve origin http://evil.example: it is neither this node's own page " +
          "nor loopback (start the node with --api-origins http://evil.example to accept it)",
        type: "invalid_request_error",
        param: null,
        code: "origin_not_allowed",
      },
    });
  }
  deepStrictEqual(calls, []);
});

Deno.test("a cross-site text/plain POST to /download never reaches the download", async () => {
  const { app, calls } = appWith();
  const body = JSON.stringify({ model: "test-org/tiny" });
  const headers = { "content-type": "text/plain;charset=UTF-8" };
  const refused = await send(app, "POST", "/download", { ...headers, origin: EVIL }, body);
  equal(refused.status, 403);
  equal((await errorOf(refused)).code, "origin_not_allowed");
  deepStrictEqual(calls, []);
  // The same body from a loopback page does run, so the refusal above is the guard's.
  const allowed = await send(app, "POST", "/download", {
    ...headers,
    origin: "http://localhost:5173",
  }, body);
  equal(allowed.status, 202);
  deepStrictEqual(calls, ["prefetch test-org/tiny"]);
});

Deno.test("a loopback page on another port may GET, POST and DELETE, with CORS headers", async () => {
  const { app, calls } = appWith();
  for (const origin of ["http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:3000"]) {
    for (const [method, path, body] of REQUESTS) {
      const response = await send(app, method, path, { origin }, body);
      ok(response.status < 300, `${origin} ${method} ${path}: ${response.status}`);
      equal(response.headers.get("access-control-allow-origin"), origin);
      match(response.headers.get("vary")!, /\bOrigin\b/);
    }
  }
  equal(calls.length, 6);
});

Deno.test("the node's own page (Origin is http:// or https:// plus Host) is accepted", async () => {
  const { app } = appWith({ ownHosts: OWN });
  for (const origin of ["http://mac1.local:52415", "https://mac1.local:52415"]) {
    const response = await send(app, "POST", "http://mac1.local:52415/v1/chat/completions", {
      origin,
      "content-type": "application/json",
    }, JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }));
    equal(response.status, 200, origin);
    equal(response.headers.get("access-control-allow-origin"), origin);
  }
  const otherPort = await send(app, "GET", "http://mac1.local:52415/v1/models", {
    origin: "http://mac1.local:3000",
  });
  equal(otherPort.status, 403);
});

Deno.test("a request without Origin is served whatever its method", async () => {
  const { app, calls } = appWith();
  for (const [method, path, body] of REQUESTS) {
    const response = await send(app, method, path, {}, body);
    ok(response.status < 300, `${method} ${path}: ${response.status}`);
    equal(response.headers.get("access-control-allow-origin"), null);
    match(response.headers.get("vary")!, /\bOrigin\b/);
  }
  equal(calls.length, 2);
});

Deno.test("a preflight from an accepted origin answers 204 with the CORS headers", async () => {
  const { app, calls } = appWith();
  for (const method of ["POST", "DELETE"]) {
    const response = await preflight(app, "http://localhost:5173", method, "/models/x");
    equal(response.status, 204);
    equal(response.headers.get("access-control-allow-origin"), "http://localhost:5173");
    match(response.headers.get("vary")!, /\bOrigin\b/);
    equal(response.headers.get("access-control-allow-methods"), "GET, POST, DELETE, OPTIONS");
    const allowed = response.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const header of ["authorization", "content-type", "x-stainless-os"]) {
      ok(allowed.split(", ").includes(header), `${header} in ${allowed}`);
    }
  }
  deepStrictEqual(calls, []);
});

Deno.test("a preflight from another web site gets 403 without CORS headers", async () => {
  const { app } = appWith();
  const response = await preflight(app, EVIL, "DELETE", "/models/x");
  equal(response.status, 403);
  equal((await errorOf(response)).code, "origin_not_allowed");
  for (const name of ["allow-origin", "allow-methods", "allow-headers"]) {
    equal(response.headers.get(`access-control-${name}`), null, name);
  }
});

Deno.test("--api-origins accepts exactly the listed origins", async () => {
  const { app } = appWith({ origins: ["http://ui.example:3000"] });
  const listed = await send(app, "GET", "/v1/models", { origin: "http://ui.example:3000" });
  equal(listed.status, 200);
  equal(listed.headers.get("access-control-allow-origin"), "http://ui.example:3000");
  equal((await preflight(app, "http://ui.example:3000")).status, 204);
  for (const origin of ["http://ui.example", "https://ui.example:3000", "http://ui.example:3001"]) {
    equal((await send(app, "GET", "/v1/models", { origin })).status, 403, origin);
  }
  equal((await send(app, "GET", "/v1/models", { origin: "http://localhost:1" })).status, 200);
});

Deno.test("--api-origins * accepts any origin and answers Access-Control-Allow-Origin: *", async () => {
  const { app, calls } = appWith({ origins: ["*"] });
  const response = await send(app, "DELETE", "/models/test-org/tiny", { origin: EVIL });
  equal(response.status, 200);
  equal(response.headers.get("access-control-allow-origin"), "*");
  const pre = await preflight(app, EVIL);
  equal(pre.status, 204);
  equal(pre.headers.get("access-control-allow-origin"), "*");
  deepStrictEqual(calls, ["remove test-org/tiny"]);
});

Deno.test("Host must be loopback, one of the node's names or addresses, or listed", async () => {
  const { app } = appWith({ ownHosts: OWN });
  for (
    const host of [
      "localhost:52415",
      "127.0.0.1:52415",
      "[::1]:52415",
      "Mac1.Local:52415",
      "mac1",
      "192.168.1.20:52415",
      "[fe80::1]:52415",
    ]
  ) equal((await send(app, "GET", "/v1/models", { host })).status, 200, host);
  equal((await app.request("/v1/models")).status, 200);
  equal((await app.request("http://192.168.1.20:52415/v1/models")).status, 200);
});

Deno.test("a request for another Host is refused with 403 host_not_allowed (DNS rebinding)", async () => {
  const { app, calls } = appWith({ ownHosts: OWN });
  for (const [method, path, body] of REQUESTS) {
    // A rebound page is same-origin for the browser, so its Origin matches its Host.
    const response = await send(app, method, path, {
      host: "evil.example:52415",
      origin: "http://evil.example:52415",
    }, body);
    equal(response.status, 403);
    deepStrictEqual(await response.json(), {
      error: {
        message: "Cannot serve host evil.example: it is neither loopback nor a name or address " +
          "of this node (start the node with --api-hosts evil.example to accept it)",
        type: "invalid_request_error",
        param: null,
        code: "host_not_allowed",
      },
    });
  }
  const byUrl = await app.request("http://mac2.local:52415/healthcheck");
  equal(byUrl.status, 403);
  equal((await errorOf(byUrl)).code, "host_not_allowed");
  const garbled = await send(app, "GET", "/v1/models", { host: "a b" });
  equal(garbled.status, 403);
  match((await errorOf(garbled)).message, /^Cannot serve host a b: .*--api-hosts/);
  deepStrictEqual(calls, []);
});

Deno.test("--api-hosts accepts the listed hosts, and * any host", async () => {
  const { app } = appWith({ hosts: ["exo.example.com"] });
  equal((await send(app, "GET", "/v1/models", { host: "EXO.example.com:443" })).status, 200);
  equal((await send(app, "GET", "/v1/models", { host: "other.example.com" })).status, 403);
  const { app: any } = appWith({ hosts: ["*"] });
  equal((await send(any, "GET", "/v1/models", { host: "other.example.com" })).status, 200);
});

Deno.test("the Host check runs before the origin check", async () => {
  const { app } = appWith();
  const response = await send(app, "GET", "/v1/models", { host: "evil.example", origin: EVIL });
  equal((await errorOf(response)).code, "host_not_allowed");
});

Deno.test("with --api-key a request without the key gets 401 invalid_api_key", async () => {
  const { app, calls } = appWith({ apiKey: KEY });
  for (const [method, path, body] of REQUESTS) {
    const response = await send(app, method, path, {}, body);
    equal(response.status, 401, `${method} ${path}`);
    equal(response.headers.get("www-authenticate"), "Bearer");
    deepStrictEqual(await response.json(), {
      error: {
        message: "Cannot serve the request without an API key: this node was started with " +
          "--api-key, so send the header Authorization: Bearer <key>",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
  }
  deepStrictEqual(calls, []);
});

Deno.test("with --api-key a wrong key gets 401 invalid_api_key without the key in it", async () => {
  const { app, calls } = appWith({ apiKey: KEY });
  for (const [method, path, body] of REQUESTS) {
    const response = await send(app, method, path, { authorization: "Bearer sk-guess" }, body);
    equal(response.status, 401);
    equal(response.headers.get("www-authenticate"), "Bearer");
    const error = await errorOf(response);
    equal(error.code, "invalid_api_key");
    equal(error.type, "invalid_request_error");
    match(error.message, /^Incorrect API key provided/);
    ok(!error.message.includes("sk-guess") && !error.message.includes(KEY));
  }
  deepStrictEqual(calls, []);
});

Deno.test("with --api-key the right key is served", async () => {
  const { app, calls } = appWith({ apiKey: KEY });
  for (const [method, path, body] of REQUESTS) {
    const response = await send(app, method, path, { authorization: `Bearer ${KEY}` }, body);
    ok(response.status < 300, `${method} ${path}: ${response.status}`);
  }
  equal(calls.length, 2);
});

Deno.test("with --api-key the health probe, the page's files and preflights need no key", async () => {
  const { app } = appWith({ apiKey: KEY });
  equal((await app.request("/healthcheck")).status, 200);
  for (const path of ["/", "/index.html", "/favicon.svg", "/assets/app.js"]) {
    // Whether the page's files are served here or 404, the key check must let them through.
    const response = await app.request(path);
    notEqual(response.status, 401, path);
    equal(response.headers.get("www-authenticate"), null, path);
    await response.body?.cancel();
  }
  equal((await send(app, "POST", "/healthcheck")).status, 401);
  equal((await send(app, "GET", "/v1/topology")).status, 401);
  const pre = await preflight(app, "http://localhost:5173");
  equal(pre.status, 204);
});

Deno.test("with --api-key a 401 to an accepted page carries CORS headers, so it can ask for the key", async () => {
  const { app } = appWith({ apiKey: KEY });
  const response = await send(app, "GET", "/v1/models", { origin: "http://localhost:5173" });
  equal(response.status, 401);
  equal(response.headers.get("access-control-allow-origin"), "http://localhost:5173");
  match(response.headers.get("vary")!, /\bOrigin\b/);
});
