/**
 * How nodes find each other. Manual discovery: exo-style peers files, parsed without I/O,
 * and a watcher that reloads one while the node runs. UDP discovery: announcements
 * broadcast on every interface, parsed without trusting them, and the dialing of the
 * nodes heard over their best link.
 * @module
 */
export * from "./peers_file.ts";
export * from "./peers_file_watcher.ts";
export * from "./announcement.ts";
export * from "./announced_peers.ts";
export * from "./announcer.ts";
export * from "./datagram_counts.ts";
export * from "./interface_probe.ts";
export * from "./interface_type.ts";
export * from "./local_interfaces.ts";
export * from "./udp_discovery.ts";
