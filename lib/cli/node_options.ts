import type { LogLevel } from "../log/mod.ts";
import type { InterfaceType } from "../discovery/interface_type.ts";

/** Everything the command line decides about how this node runs. */
export interface NodeOptions {
  /** `serve` joins the cluster and offers the API; `run` answers one prompt and exits. */
  command: "serve" | "run";
  /** The model of `exo-node run <model>`. */
  model?: string;
  /** `--prompt`, the prompt of `run`. */
  prompt?: string;
  /** `--node-id`; when absent the id comes from the state file (see `resolveNodeId`). */
  nodeId?: string;
  /** `--node-host`, the address the peer listener binds. */
  nodeHost: string;
  /** `--node-port`, the peer listener's TCP port; 0 picks a free port. */
  nodePort: number;
  /**
   * `--discovery-module`: "udp" (broadcast on the local network) or "manual" (a peers
   * file); by default manual when a peers file is given, else udp.
   */
  discoveryModule: "manual" | "udp";
  /** `--discovery-config-path`, the peers file (required for manual; optional with udp). */
  discoveryConfigPath?: string;
  /**
   * `--discovery-timeout`, in seconds: how long a peer that stopped announcing is
   * remembered (udp), and the longest a connection and its handshake may take. By default
   * 10 with udp, 30 with manual.
   */
  discoveryTimeout: number;
  /** `--listen-port`, the UDP port announcements are received on. */
  listenPort: number;
  /** `--broadcast-port`, the UDP port announcements are sent to. */
  broadcastPort: number;
  /** `--broadcast-interval`, seconds between announcements. */
  broadcastInterval: number;
  /** `--interface-type-filter`, the only interface types announced on. */
  interfaceTypeFilter?: InterfaceType[];
  /** `--wait-for-peers`, peers to wait for before starting. */
  waitForPeers: number;
  /** `--chatgpt-api-port`, the HTTP API's TCP port; 0 picks a free port. */
  chatgptApiPort: number;
  /** `--chatgpt-api-response-timeout`, in seconds. */
  chatgptApiResponseTimeout: number;
  /** `--api-origins`, web origins accepted besides the API's own page and loopback; `["*"]`: any. */
  apiOrigins?: string[];
  /** `--api-hosts`, `Host` names accepted besides loopback and this machine's; `["*"]`: any. */
  apiHosts?: string[];
  /**
   * The API's bearer token: `--api-key`, else the content of `--api-key-file` (see
   * `readSecretFiles`), else the `EXO_API_KEY` environment variable.
   */
  apiKey?: string;
  /** `--api-key-file`, the absolute path of a file holding the API key. */
  apiKeyFile?: string;
  /** `--disable-tui`. */
  disableTui: boolean;
  /** `--default-model`, used when a request names no model. */
  defaultModel?: string;
  /** `--max-generate-tokens`, the cap on tokens per request. */
  maxGenerateTokens: number;
  /** `--inference-engine`; this build runs ONNX only. */
  inferenceEngine: "onnx";
  /** `--models-seed-dir`, a folder of models to use before downloading. */
  modelsSeedDir?: string;
  /** `--max-parallel-downloads`, the most model files fetched at once. */
  maxParallelDownloads: number;
  /** `--offline`: local model files only (main also honours `HF_HUB_OFFLINE`). */
  offline: boolean;
  /** `--execution-provider`; by default auto: measured at load (see provider_choice.ts). */
  executionProvider: "auto" | "coreml" | "cpu" | "webgpu";
  /** `--reprobe`: auto measures again instead of using a kept choice. */
  reprobe: boolean;
  /** `--dtype`, the weight precision; when absent q4, float16 on coreml. */
  dtype?: "float32" | "float16" | "q4";
  /** `--cache-dir`, where converted shard graphs are kept; else `<stateDir>/shards`. */
  cacheDir?: string;
  /** `--threads`: ONNX Runtime's intra-op threads; absent: the performance cores. */
  threads?: number;
  /**
   * `--compute-lock`, the lock file whose turns the shard runs of this machine's nodes take;
   * "none" for no turns; else `<temp dir>/exo-node-compute.lock`.
   */
  computeLock?: string;
  /** `--node-id-filter`, the only node ids this node will talk to. */
  nodeIdFilter?: string[];
  /**
   * `--cluster-secret`, else the content of `--cluster-secret-file` (see
   * `readSecretFiles`), else the `EXO_CLUSTER_SECRET` environment variable.
   */
  clusterSecret?: string;
  /** `--cluster-secret-file`, the absolute path of a file holding the cluster secret. */
  clusterSecretFile?: string;
  /** `--log-level`. */
  logLevel: LogLevel;
  /** `--device-memory`, in MB; overrides detection. */
  deviceMemoryMb?: number;
  /** `--device-chip`; overrides detection. */
  deviceChip?: string;
  /** `--device-tflops`, float32 TFLOPS; overrides detection. */
  deviceFlops?: number;
  /** `--state-dir`, else `EXO_NODE_HOME`, else `$HOME/.exo-node`. */
  stateDir: string;
}
