import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { checkApiKey } from "../../lib/api/check_api_key.ts";
import { KEYLESS_ROUTES, needsApiKey } from "../../lib/api/keyless_routes.ts";
import { ownHostNames } from "../../lib/api/own_host_names.ts";
import { accessSummary } from "../../lib/api/access_summary.ts";

const KEY = "sk-local-0123456789";

Deno.test("checkApiKey accepts Bearer <key>, with any case of the scheme", async () => {
  equal(await checkApiKey(`Bearer ${KEY}`, KEY), "ok");
  equal(await checkApiKey(`bearer ${KEY}`, KEY), "ok");
  equal(await checkApiKey(`  BEARER   ${KEY} `, KEY), "ok");
});

Deno.test("checkApiKey tells a missing key from a wrong one", async () => {
  equal(await checkApiKey(undefined, KEY), "missing");
  equal(await checkApiKey("", KEY), "missing");
  equal(await checkApiKey("Bearer", KEY), "missing");
  equal(await checkApiKey(`Basic ${btoa(`user:${KEY}`)}`, KEY), "missing");
  equal(await checkApiKey(KEY, KEY), "missing");
  equal(await checkApiKey("Bearer sk-local-012345678", KEY), "wrong");
  equal(await checkApiKey(`Bearer ${KEY}0`, KEY), "wrong");
  equal(await checkApiKey(`Bearer ${KEY.toUpperCase()}`, KEY), "wrong");
  equal(await checkApiKey(`Bearer ${KEY} extra`, KEY), "wrong");
});

Deno.test("needsApiKey opens only GET and HEAD of the health probe and the page's files", () => {
  deepStrictEqual(KEYLESS_ROUTES, [
    "/healthcheck",
    "/",
    "/index.html",
    "/favicon.svg",
    "/assets/*",
  ]);
  for (const path of ["/healthcheck", "/", "/index.html", "/favicon.svg", "/assets/app-1.js"]) {
    ok(!needsApiKey("GET", path), path);
    ok(!needsApiKey("HEAD", path), path);
    ok(needsApiKey("POST", path), path);
    ok(needsApiKey("DELETE", path), path);
  }
  for (
    const path of ["/v1/models", "/v1/topology", "/download", "/assets", "/index.htm", "/healthz"]
  ) ok(needsApiKey("GET", path), path);
});

Deno.test("ownHostNames adds .local to a bare host name and keeps every address once", () => {
  deepStrictEqual(ownHostNames("Mac1", ["127.0.0.1", "192.168.1.20", "fe80::1", "::1"]), [
    "mac1",
    "mac1.local",
    "127.0.0.1",
    "192.168.1.20",
    "[fe80::1]",
    "[::1]",
  ]);
  deepStrictEqual(ownHostNames("mac1.lan", ["10.0.0.2", "10.0.0.2"]), ["mac1.lan", "10.0.0.2"]);
});

Deno.test("ownHostNames leaves out a host name no browser can send", () => {
  deepStrictEqual(ownHostNames("Ada's Mac", ["10.0.0.2"]), ["10.0.0.2"]);
});

Deno.test("accessSummary names what is accepted beyond the defaults and never the key", () => {
  equal(
    accessSummary({ ownHosts: ["mac1"] }),
    "HTTP API accepts origins: its own page, loopback (widen with --api-origins); " +
      "hosts: loopback, this machine's names (widen with --api-hosts); " +
      "API key: none (set one with EXO_API_KEY or --api-key-file)",
  );
  const wide = accessSummary({
    origins: ["http://ui.example:3000"],
    hosts: ["*"],
    apiKey: "sk-secret",
  });
  equal(
    wide,
    "HTTP API accepts origins: its own page, loopback, http://ui.example:3000; " +
      "hosts: any (--api-hosts *); API key: required",
  );
  ok(!wide.includes("sk-secret"));
});
