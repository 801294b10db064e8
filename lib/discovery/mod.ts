/**
 * Manual discovery: exo-style peers files, parsed without I/O, and a watcher that reloads
 * one while the node runs.
 * @module
 */
export * from "./peers_file.ts";
export * from "./peers_file_watcher.ts";
