/**
 * The node's HTTP API (Hono): health, topology and the OpenAI-compatible routes
 * (chat and text completions, models, token encoding).
 * @module
 */
export * from "./app.ts";
export * from "./api_error.ts";
export * from "./api_limits.ts";
export type { AccessRules } from "./access_policy.ts";
export { accessSummary } from "./access_summary.ts";
export { ownHostNames } from "./own_host_names.ts";
export type { DownloadDeps, PrefetchResult } from "./downloads_route.ts";
