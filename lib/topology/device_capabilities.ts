/** Floating-point throughput of a device in TFLOPS. */
export interface DeviceFlops {
  fp32: number;
  fp16: number;
  int8: number;
}

/** What a node reports about its hardware (exo's `device_capabilities`). */
export interface DeviceCapabilities {
  /** Machine model, e.g. "MacBook Pro" or "Linux Box". */
  model: string;
  /** Chip name, e.g. "Apple M2 Max". */
  chip: string;
  /** Memory in MB. */
  memory: number;
  flops: DeviceFlops;
}

/** Placeholder capabilities for a peer that has not reported its own yet. */
export const UNKNOWN_CAPABILITIES: DeviceCapabilities = {
  model: "Unknown Model",
  chip: "Unknown Chip",
  memory: 0,
  flops: { fp32: 0, fp16: 0, int8: 0 },
};
