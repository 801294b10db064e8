import type { TuiEngine, TuiNode, TuiRequest, TuiViewModel } from "../../lib/tui/view_model.ts";
import { type DownloadEvent, endedDownloadEvent } from "../../lib/model/download_progress.ts";

/** auto chose WebGPU over the CPU. */
export const AUTO_WEBGPU: TuiEngine = {
  provider: "webgpu",
  dtype: "q4",
  fellBackFrom: null,
  auto: {
    tokensPerSecond: 41.2,
    runnerUp: { provider: "cpu", dtype: "q4", tokensPerSecond: 27.5 },
  },
};

/** auto chose the CPU: WebGPU was out. */
export const AUTO_CPU: TuiEngine = {
  provider: "cpu",
  dtype: "q4",
  fellBackFrom: null,
  auto: {
    tokensPerSecond: 12.7,
    runnerUp: { provider: "webgpu", dtype: "q4", tokensPerSecond: null },
  },
};

/** `--execution-provider cpu`. */
export const NAMED_CPU: TuiEngine = {
  provider: "cpu",
  dtype: "q4",
  fellBackFrom: null,
  auto: null,
};

/**
 * `count` nodes: the first is this node (auto chose WebGPU there), the second chose the
 * CPU, the others were told the CPU; the last of three or more is unreachable, without
 * a shard.
 */
export function nodes(count: number, idOf = (i: number) => `node${i + 1}`): TuiNode[] {
  const layersEach = Math.floor(16 / count);
  return Array.from({ length: count }, (_, i) => ({
    id: idOf(i),
    chip: i % 2 === 0 ? "Apple M2 Max" : "Intel(R) Xeon(R) CPU @ 2.20GHz",
    memoryMb: i % 2 === 0 ? 32768 : 16384,
    tflops: i % 2 === 0 ? 13.49 : 0.17,
    alive: !(count >= 3 && i === count - 1),
    self: i === 0,
    rttMs: i === 0 ? null : 0.42 + i,
    layers: count >= 3 && i === count - 1
      ? null
      : { start: i * layersEach, end: i === count - 1 ? 15 : (i + 1) * layersEach - 1 },
    computing: i === 1,
    engine: count >= 3 && i === count - 1
      ? null
      : i === 0
      ? AUTO_WEBGPU
      : i === 1
      ? AUTO_CPU
      : NAMED_CPU,
  }));
}

/** A running and a finished request. */
export function requests(): TuiRequest[] {
  return [{
    id: "r2",
    origin: "node1",
    model: "llama-3.2-1b",
    prompt: "Why is the sky blue?\nAnswer in one paragraph.",
    output: "The sky looks blue because molecules in the air scatter short wavelengths of " +
      "sunlight more than long ones: Rayleigh scattering. Blue light, with its short waves, " +
      "is scattered across the whole sky",
    state: "running",
    tokens: 37,
    tokensPerSecond: 28.4,
    ttftMs: 182,
    startedAt: 2000,
  }, {
    id: "r1",
    origin: "node2",
    model: "llama-3.2-1b",
    prompt: "Say hello",
    output: "Hello! How can I help you today?",
    state: "finished",
    tokens: 10,
    tokensPerSecond: 31.2,
    ttftMs: 95,
    startedAt: 1000,
  }];
}

/** One download in progress on node2. */
export function downloads(): DownloadEvent[] {
  return [{
    event: "download",
    nodeId: "node2",
    model: "llama-3.2-1b",
    repo: "unsloth/Llama-3.2-1B-Instruct",
    file: "model.safetensors",
    bytes: 1_200_000_000,
    totalBytes: 2_470_000_000,
    speed: 12_300_000,
    eta: 103,
    status: "downloading",
    done: false,
    files: [],
    at: 0,
  }];
}

/** A download of node1 that failed before it began, for `reason`. */
export function failedDownload(reason: string): DownloadEvent {
  const ids = { nodeId: "node1", model: "llama-3.2-1b", repo: "unsloth/Llama-3.2-1B-Instruct" };
  return endedDownloadEvent(ids, reason, 0);
}

/** A full view model with `count` nodes. */
export function viewModel(count: number, overrides: Partial<TuiViewModel> = {}): TuiViewModel {
  return {
    nodeId: "node1",
    version: "0.1.0",
    apiUrls: ["http://localhost:52415", "http://192.168.2.2:52415", "http://10.0.0.5:52415"],
    nodePort: 50060,
    logFile: "/home/me/.exo-node/logs/exo-node.log",
    model: { id: "llama-3.2-1b", numLayers: 16 },
    nodes: nodes(count),
    requests: requests(),
    downloads: downloads(),
    logs: [
      {
        time: "12:00:01",
        level: "warn",
        text: "Cannot connect to node3 at 127.0.0.1:50053: Connection refused (retrying)",
      },
      { time: "12:00:04", level: "error", text: "Node node3 failed: out of memory" },
    ],
    activity: [
      {
        time: "12:00:02",
        level: "info",
        text: "[transport] Peer node2 connected (dialed 192.168.2.3:50061)",
      },
      {
        time: "12:00:05",
        level: "info",
        text:
          "[requests] Node node2 loaded layers 8..15 of llama-3.2-1b in 2140 ms (cached graph, cpu)",
      },
    ],
    ...overrides,
  };
}
