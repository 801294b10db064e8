/**
 * The web chat page, served by every node from the API port. Its files are imported as
 * text, so they are part of the module graph and `deno compile` carries them inside the
 * binary; nothing is fetched from anywhere else.
 * @module
 */
import { type Context, Hono } from "hono";
import indexTemplate from "../../web/index.html" with { type: "text" };
import stylesheet from "../../web/styles.css" with { type: "text" };
import script from "../../web/dist/app.js" with { type: "text" };
import favicon from "../../web/favicon.svg" with { type: "text" };

/** One file the page is made of, ready to send. */
interface Asset {
  body: Uint8Array;
  gzip: Uint8Array;
  contentType: string;
  etag: string;
  cacheControl: string;
}

/** The page's files by URL path. */
export type WebAssets = ReadonlyMap<string, Asset>;

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The page's policy: its own scripts, styles and API only. A reply the sanitizer missed
 * still could not run script or send anything elsewhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Builds the page's files: index.html pointing at content-named script and stylesheet URLs
 * (cached for good, since a new build gets new names), each with an ETag and a gzip copy.
 */
export async function webAssets(): Promise<WebAssets> {
  const scriptPath = `/assets/app.${await shortHash(script)}.js`;
  const stylesPath = `/assets/app.${await shortHash(stylesheet)}.css`;
  const html = indexTemplate.replace("%SCRIPT%", scriptPath).replace("%STYLES%", stylesPath);
  const page = await asset(html, "text/html; charset=utf-8", "no-cache");
  return new Map([
    ["/", page],
    ["/index.html", page],
    [scriptPath, await asset(script, "text/javascript; charset=utf-8", IMMUTABLE)],
    [stylesPath, await asset(stylesheet, "text/css; charset=utf-8", IMMUTABLE)],
    ["/favicon.svg", await asset(favicon, "image/svg+xml", "public, max-age=86400")],
  ]);
}

/** Routes `GET` (and `HEAD`) for every file of the page. */
export function webPageRoute(): Hono {
  const route = new Hono();
  let assets: Promise<WebAssets> | null = null;
  for (const path of ["/", "/index.html", "/favicon.svg", "/assets/:file"]) {
    route.get(path, async (c, next) => {
      assets ??= webAssets();
      const found = (await assets).get(c.req.path);
      if (found === undefined) return next();
      return send(c, found);
    });
  }
  return route;
}

function send(c: Context, asset: Asset): Response {
  const headers = new Headers({
    "content-type": asset.contentType,
    "cache-control": asset.cacheControl,
    "etag": asset.etag,
    "vary": "Accept-Encoding",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  if (asset.contentType.startsWith("text/html")) {
    headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
    headers.set("x-frame-options", "DENY");
  }
  if (matchesEtag(c.req.header("if-none-match"), asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
  if (gzip) headers.set("content-encoding", "gzip");
  const body = gzip ? asset.gzip : asset.body;
  headers.set("content-length", String(body.byteLength));
  return new Response(c.req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers,
  });
}

async function asset(text: string, contentType: string, cacheControl: string): Promise<Asset> {
  const body = new TextEncoder().encode(text);
  return {
    body,
    gzip: await gzipped(body),
    contentType,
    etag: `"${await shortHash(text)}"`,
    cacheControl,
  };
}

async function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).slice(0, 6)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}
