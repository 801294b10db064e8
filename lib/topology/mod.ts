/**
 * The cluster as this node sees it: device capabilities and their detection, node ids,
 * the merged cluster view, and the ring memory-weighted layer partition. All pure except
 * {@linkcode detectCapabilities}.
 * @module
 */
export * from "./device_capabilities.ts";
export * from "./node_id.ts";
export * from "./chip_flops.ts";
export * from "./detect_capabilities.ts";
export * from "./topology.ts";
export * from "./partition.ts";
export * from "./performance_cores.ts";
