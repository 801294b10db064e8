import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { testApp } from "./_test_app.ts";

const { app } = testApp();

async function page(): Promise<{ html: string; script: string; styles: string }> {
  const response = await app.request("/");
  const html = await response.text();
  const script = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
  const styles = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
  assert.ok(script && styles, html);
  return { html, script, styles };
}

Deno.test("GET / serves the chat page: HTML, not cached, with a strict content security policy", async () => {
  const response = await app.request("/");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  const csp = response.headers.get("content-security-policy") ?? "";
  for (
    const rule of [
      "default-src 'self'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]
  ) {
    assert.ok(csp.includes(rule), `${rule} in ${csp}`);
  }
  const html = await response.text();
  assert.match(html, /<div id="app"><\/div>/);
  assert.doesNotMatch(html, /https?:\/\//, "nothing is loaded from another host");
  assert.equal(await (await app.request("/index.html")).text(), html);
});

Deno.test("The page's script and stylesheet have content names and are cached for good", async () => {
  const { script, styles } = await page();
  assert.match(script, /^\/assets\/app\.[0-9a-f]{12}\.js$/);
  assert.match(styles, /^\/assets\/app\.[0-9a-f]{12}\.css$/);
  const js = await app.request(script);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const body = await js.text();
  assert.ok(body.length > 50_000, `bundle is ${body.length} bytes`);
  const css = await app.request(styles);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  assert.match(await css.text(), /prefers-color-scheme: dark/);
  const icon = await app.request("/favicon.svg");
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  await icon.body?.cancel();
});

Deno.test("The page's files are sent gzipped when asked, answer 304 to their ETag, and HEAD has no body", async () => {
  const { script } = await page();
  const plain = await (await app.request(script)).arrayBuffer();
  const zipped = await app.request(script, { headers: { "accept-encoding": "gzip, br" } });
  assert.equal(zipped.headers.get("content-encoding"), "gzip");
  assert.equal(zipped.headers.get("vary")?.includes("Accept-Encoding"), true);
  const bytes = new Uint8Array(await zipped.arrayBuffer());
  assert.ok(bytes.length < plain.byteLength / 2, `${bytes.length} vs ${plain.byteLength}`);
  assert.deepEqual(new Uint8Array(gunzipSync(bytes)), new Uint8Array(plain));

  const etag = zipped.headers.get("etag")!;
  const again = await app.request(script, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");

  const head = await app.request("/", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("An asset name that is not the current build's is a 404 in the API's error shape", async () => {
  const response = await app.request("/assets/app.000000000000.js");
  assert.equal(response.status, 404);
  assert.match(
    (await response.json()).error.message,
    /No route for GET \/assets\/app\.000000000000\.js/,
  );
});
