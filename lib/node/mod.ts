/**
 * A cluster node: connections, peers file, topology view and diagnostics, composed.
 * @module
 */
export * from "./exo_node.ts";
export * from "./topology_snapshot.ts";
export * from "./tensor_echo.ts";
export * from "./download_board.ts";
export * from "./cluster_prefetch.ts";
export * from "./prefetch_request.ts";
