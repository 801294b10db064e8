/**
 * Leveled, scoped logging to stderr.
 * @module
 */
export * from "./logger.ts";
