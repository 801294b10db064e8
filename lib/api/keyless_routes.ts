/**
 * The routes served without `--api-key`: the health probe (for monitors and load balancers)
 * and the web page's static files (the page asks for the key itself). A path ending in `/*`
 * covers everything below it. Only GET (and the HEAD Hono answers with it) is open.
 */
export const KEYLESS_ROUTES: readonly string[] = [
  "/healthcheck",
  "/",
  "/index.html",
  "/favicon.svg",
  "/assets/*",
];

/** Whether a request for `method` and `path` needs the API key (when one is set). */
export function needsApiKey(method: string, path: string): boolean {
  if (method !== "GET" && method !== "HEAD") return true;
  return !KEYLESS_ROUTES.some((route) =>
    route.endsWith("/*") ? path.startsWith(route.slice(0, -1)) : path === route
  );
}
