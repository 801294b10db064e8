/**
 * TCP connections between nodes: handshake with optional shared-secret proof, one
 * connection per pair used in both directions, reconnect with backoff, ping liveness.
 * @module
 */
export * from "./connection_manager.ts";
export * from "./peer_connection.ts";
export * from "./frame_channel.ts";
export * from "./handshake.ts";
export { abortableDelay, Backoff } from "./abortable_delay.ts";
