/**
 * Leveled, scoped logging to stderr.
 * @module
 */
export * from "./logger.ts";
export * from "./log_file.ts";
