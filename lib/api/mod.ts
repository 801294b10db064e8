/**
 * The node's HTTP API (Hono): health, topology and, later, the OpenAI-compatible routes.
 * @module
 */
export * from "./app.ts";
export * from "./api_error.ts";
