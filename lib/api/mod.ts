/**
 * The node's HTTP API (Hono): health, topology and the OpenAI-compatible routes
 * (chat and text completions, models, token encoding).
 * @module
 */
export * from "./app.ts";
export * from "./api_error.ts";
export * from "./api_limits.ts";
export type { DownloadDeps, PrefetchResult } from "./downloads_route.ts";
