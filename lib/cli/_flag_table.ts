/**
 * Every flag, as data: the parser, the help text and the tests all read this table, so a
 * new flag is one entry here (plus its field in `NodeOptions`).
 * @module
 */
import { LOG_LEVELS } from "../log/mod.ts";
import type { NodeOptions } from "./node_options.ts";
import {
  choiceOf,
  parseApiKey,
  parseBroadcastInterval,
  parseHost,
  parseHostList,
  parseInterfaceTypes,
  parseNodeId,
  parseNodeIdList,
  parseOriginList,
  parsePort,
  parsePositive,
  parseSeconds,
  parseText,
  parseUdpPort,
  wholeNumberFrom,
} from "./_values.ts";

/** Help sections, in the order `helpText` prints them. */
export const FLAG_GROUPS = [
  "Node",
  "Discovery",
  "API",
  "Model and inference",
  "Device (overrides detection)",
  "General",
] as const;

/** A help section. */
export type FlagGroup = typeof FLAG_GROUPS[number];

interface FlagBase {
  /** Canonical spelling, e.g. "--node-port". */
  name: `--${string}`;
  group: FlagGroup;
  help: string;
}

/** A flag that takes a value: `--name value` or `--name=value`. */
export interface ValueFlag<K extends keyof NodeOptions = keyof NodeOptions> extends FlagBase {
  kind: "value";
  key: K;
  /** What the value is, in help: "PORT". */
  placeholder: string;
  /** Turns raw text into the value, throwing RangeError with the problem. */
  parse(raw: string): NodeOptions[K];
  default?: NodeOptions[K];
  /** An environment variable read when the flag is absent. */
  env?: string;
  /** Help's description of a default that is not a fixed value. */
  defaultText?: string;
  /** The only command the flag applies to. */
  only?: NodeOptions["command"];
  /** The only discovery module the flag applies to (checked when serving). */
  onlyDiscovery?: NodeOptions["discoveryModule"];
  /**
   * The value is a file or folder: a relative one is made absolute against the folder the
   * user ran the command from. `except` names a word that is not a path (`none`).
   */
  path?: { except?: string };
}

type SwitchKey = {
  [K in keyof NodeOptions]-?: NodeOptions[K] extends boolean ? K : never;
}[keyof NodeOptions];

/** An on/off flag: `--name` turns it on, `--no-name` (exo's spelling) off; default off. */
export interface SwitchFlag extends FlagBase {
  kind: "switch";
  key: SwitchKey;
}

/** A flag that answers instead of running: help or version. */
export interface ActionFlag extends FlagBase {
  kind: "action";
  action: "help" | "version";
  short: `-${string}`;
}

/** Any flag. */
export type Flag = ValueFlag | SwitchFlag | ActionFlag;

// Ties each entry's parser and default to its key's type, which a plain array literal would not.
function value<K extends keyof NodeOptions>(flag: Omit<ValueFlag<K>, "kind">): ValueFlag {
  const typed: ValueFlag<K> = { kind: "value", ...flag };
  return typed;
}

/** The flag table. */
export const FLAGS: readonly Flag[] = [
  value({
    name: "--node-id",
    key: "nodeId",
    group: "Node",
    placeholder: "ID",
    help: "This node's id (1-64 characters of A-Z a-z 0-9 . _ -)",
    defaultText: "kept in <state dir>/node_id, made on first run",
    parse: parseNodeId,
  }),
  value({
    name: "--node-host",
    key: "nodeHost",
    group: "Node",
    placeholder: "HOST",
    help: "Address the peer listener binds",
    default: "0.0.0.0",
    parse: parseHost,
  }),
  value({
    name: "--node-port",
    key: "nodePort",
    group: "Node",
    placeholder: "PORT",
    help: "TCP port for peer connections (0 = any free port)",
    default: 50051,
    parse: parsePort,
  }),
  value({
    name: "--cluster-secret",
    key: "clusterSecret",
    group: "Node",
    placeholder: "SECRET",
    help:
      "Shared secret every node of the cluster must prove. A command line is shown on screen and to other users: prefer EXO_CLUSTER_SECRET or --cluster-secret-file",
    defaultText: "none",
    env: "EXO_CLUSTER_SECRET",
    parse: parseText,
  }),
  value({
    name: "--cluster-secret-file",
    key: "clusterSecretFile",
    group: "Node",
    placeholder: "FILE",
    help:
      "File whose content is the cluster secret (a final newline is dropped); keep it readable by its owner only (chmod 600)",
    defaultText: "none",
    path: {},
    parse: parseText,
  }),
  {
    kind: "switch",
    name: "--disable-tui",
    key: "disableTui",
    group: "Node",
    help: "Do not draw the terminal view of the cluster",
  },
  value({
    name: "--discovery-module",
    key: "discoveryModule",
    group: "Discovery",
    placeholder: "MODULE",
    help:
      "How peers are found: udp (announcements broadcast on the local network) or manual (a peers file)",
    defaultText: "manual with --discovery-config-path, else udp",
    parse: choiceOf("a discovery module", ["udp", "manual"] as const, {
      tailscale: "is not supported yet (use udp or manual)",
    }),
  }),
  value({
    name: "--discovery-config-path",
    key: "discoveryConfigPath",
    group: "Discovery",
    placeholder: "FILE",
    help:
      "Peers file (JSON), re-read while running: needed for manual; with udp its peers are dialed too",
    defaultText: "none",
    path: {},
    parse: parseText,
  }),
  value({
    name: "--discovery-timeout",
    key: "discoveryTimeout",
    group: "Discovery",
    placeholder: "SECONDS",
    help:
      "Seconds a peer that stopped announcing itself is remembered (udp), and the longest a connection with its handshake may take",
    defaultText: "10 with udp, 30 with manual",
    parse: parseSeconds,
  }),
  value({
    name: "--listen-port",
    key: "listenPort",
    group: "Discovery",
    placeholder: "PORT",
    help: "UDP port announcements are received on (udp)",
    default: 5678,
    onlyDiscovery: "udp",
    parse: parseUdpPort,
  }),
  value({
    name: "--broadcast-port",
    key: "broadcastPort",
    group: "Discovery",
    placeholder: "PORT",
    help: "UDP port announcements are sent to (udp)",
    default: 5678,
    onlyDiscovery: "udp",
    parse: parseUdpPort,
  }),
  value({
    name: "--broadcast-interval",
    key: "broadcastInterval",
    group: "Discovery",
    placeholder: "SECONDS",
    help: "Seconds between two announcements (udp)",
    default: 2.5,
    onlyDiscovery: "udp",
    parse: parseBroadcastInterval,
  }),
  value({
    name: "--interface-type-filter",
    key: "interfaceTypeFilter",
    group: "Discovery",
    placeholder: "TYPES",
    help:
      "Comma-separated interface types announced on (udp): thunderbolt, ethernet, wifi, other, container, vpn",
    defaultText: "all",
    onlyDiscovery: "udp",
    parse: parseInterfaceTypes,
  }),
  value({
    name: "--wait-for-peers",
    key: "waitForPeers",
    group: "Discovery",
    placeholder: "N",
    help: "Peers to wait for before starting",
    default: 0,
    parse: wholeNumberFrom(0),
  }),
  value({
    name: "--node-id-filter",
    key: "nodeIdFilter",
    group: "Discovery",
    placeholder: "IDS",
    help: "Comma-separated node ids; peers with other ids are ignored",
    defaultText: "all",
    parse: parseNodeIdList,
  }),
  value({
    name: "--chatgpt-api-port",
    key: "chatgptApiPort",
    group: "API",
    placeholder: "PORT",
    help: "TCP port of the OpenAI-compatible HTTP API and web chat (0 = any free port)",
    default: 52415,
    parse: parsePort,
  }),
  value({
    name: "--chatgpt-api-response-timeout",
    key: "chatgptApiResponseTimeout",
    group: "API",
    placeholder: "SECONDS",
    help: "Seconds a request may take before it fails",
    default: 900,
    parse: parseSeconds,
  }),
  value({
    name: "--max-generate-tokens",
    key: "maxGenerateTokens",
    group: "API",
    placeholder: "N",
    help: "Most tokens generated for one request",
    default: 10000,
    parse: wholeNumberFrom(1),
  }),
  value({
    name: "--api-origins",
    key: "apiOrigins",
    group: "API",
    placeholder: "ORIGINS",
    help:
      "Comma-separated web origins (http://mac1.local:3000) that may call the API besides its own page and loopback; * for any",
    defaultText: "none",
    parse: parseOriginList,
  }),
  value({
    name: "--api-hosts",
    key: "apiHosts",
    group: "API",
    placeholder: "HOSTS",
    help:
      "Comma-separated Host names the API answers besides loopback and this machine's names and addresses; * for any",
    defaultText: "none",
    parse: parseHostList,
  }),
  value({
    name: "--api-key",
    key: "apiKey",
    group: "API",
    placeholder: "KEY",
    help:
      "Key every API request must send as Authorization: Bearer KEY (except /healthcheck and the web page); prefer EXO_API_KEY or --api-key-file, which keep it off the screen",
    defaultText: "none",
    env: "EXO_API_KEY",
    parse: parseApiKey,
  }),
  value({
    name: "--api-key-file",
    key: "apiKeyFile",
    group: "API",
    placeholder: "FILE",
    help:
      "File whose content is the API key (a final newline is dropped); keep it readable by its owner only (chmod 600)",
    defaultText: "none",
    path: {},
    parse: parseText,
  }),
  value({
    name: "--default-model",
    key: "defaultModel",
    group: "API",
    placeholder: "MODEL",
    help: "Model used when a request names none",
    defaultText: "none",
    parse: parseText,
  }),
  value({
    name: "--inference-engine",
    key: "inferenceEngine",
    group: "Model and inference",
    placeholder: "ENGINE",
    help: "Inference engine: onnx",
    default: "onnx",
    parse: choiceOf("an inference engine", ["onnx"] as const, {
      mlx: "is not available: this build runs onnx",
      tinygrad: "is not available: this build runs onnx",
    }),
  }),
  value({
    name: "--models-seed-dir",
    key: "modelsSeedDir",
    group: "Model and inference",
    placeholder: "DIR",
    help: "Folder of models to use before downloading",
    defaultText: "none",
    path: {},
    parse: parseText,
  }),
  value({
    name: "--max-parallel-downloads",
    key: "maxParallelDownloads",
    group: "Model and inference",
    placeholder: "N",
    help: "Most model files downloaded at once",
    default: 8,
    parse: wholeNumberFrom(1),
  }),
  {
    kind: "switch",
    name: "--offline",
    key: "offline",
    group: "Model and inference",
    help: "Use local model files only, never the hub (also HF_HUB_OFFLINE=1)",
  },
  value({
    name: "--prompt",
    key: "prompt",
    group: "Model and inference",
    placeholder: "TEXT",
    help: "The prompt to answer",
    defaultText: "none",
    only: "run",
    parse: parseText,
  }),
  value({
    name: "--execution-provider",
    key: "executionProvider",
    group: "Model and inference",
    placeholder: "PROVIDER",
    help:
      "Where ONNX Runtime runs the model: auto, cpu, coreml or webgpu (the GPU through Dawn: Metal on macOS, Vulkan on Linux). auto tries, when a shard loads, each of them this build and machine have on a few of the shard's layers, drops any whose answer differs from the CPU's, and keeps the fastest; the choice and every candidate's speed go to the log and /v1/topology, and are kept in the state dir for the next start. A named provider is used without measuring; CoreML and WebGPU fall back to CPU with a logged reason",
    default: "auto",
    parse: choiceOf("an execution provider", ["auto", "coreml", "cpu", "webgpu"] as const),
  }),
  {
    kind: "switch",
    name: "--reprobe",
    key: "reprobe",
    group: "Model and inference",
    help:
      "With --execution-provider auto, measure the providers again instead of using the choice kept from an earlier start (one is measured anew anyway after an update or when the model or shard changes)",
  },
  value({
    name: "--dtype",
    key: "dtype",
    group: "Model and inference",
    placeholder: "DTYPE",
    help:
      "Weight precision: float32, float16 or q4 (4-bit weights). Under auto it applies to every provider tried, except that CoreML, which has no 4-bit kernel, runs float16 in place of q4",
    // q4 decodes fastest on CPU (decode is memory-bound); CoreML has no 4-bit kernel.
    defaultText: "q4 (float16 on coreml)",
    parse: choiceOf("a dtype", ["float32", "float16", "q4"] as const),
  }),
  value({
    name: "--cache-dir",
    key: "cacheDir",
    group: "Model and inference",
    placeholder: "DIR",
    help: "Folder for converted model graphs",
    defaultText: "<state dir>/shards",
    path: {},
    parse: parseText,
  }),
  value({
    name: "--threads",
    key: "threads",
    group: "Model and inference",
    placeholder: "N",
    help:
      "ONNX Runtime's compute threads for this node's shard: its intra-op pool splits every kernel across N cores while a step runs and sleeps between steps. The default counts performance cores only: on Apple Silicon a thread on an efficiency core finishes its share last and holds each step back",
    defaultText: "the performance cores",
    parse: wholeNumberFrom(1),
  }),
  value({
    name: "--compute-lock",
    key: "computeLock",
    group: "Model and inference",
    placeholder: "FILE|none",
    help:
      "Lock file shared by the nodes of one machine, so their shard runs take turns on its cores (none: never wait)",
    defaultText: "<temp dir>/exo-node-compute.lock",
    path: { except: "none" },
    parse: parseText,
  }),
  value({
    name: "--device-memory",
    key: "deviceMemoryMb",
    group: "Device (overrides detection)",
    placeholder: "MB",
    help: "Memory this node offers, in MB",
    defaultText: "detected",
    parse: wholeNumberFrom(1),
  }),
  value({
    name: "--device-chip",
    key: "deviceChip",
    group: "Device (overrides detection)",
    placeholder: "NAME",
    help: "Chip name shown to the cluster",
    defaultText: "detected",
    parse: parseText,
  }),
  value({
    name: "--device-tflops",
    key: "deviceFlops",
    group: "Device (overrides detection)",
    placeholder: "TFLOPS",
    help: "float32 throughput in TFLOPS",
    defaultText: "detected",
    parse: parsePositive,
  }),
  value({
    name: "--log-level",
    key: "logLevel",
    group: "General",
    placeholder: "LEVEL",
    help: "Least severe log level shown: debug, info, warn or error",
    default: "info",
    parse: choiceOf("a log level", LOG_LEVELS),
  }),
  value({
    name: "--state-dir",
    key: "stateDir",
    group: "General",
    placeholder: "DIR",
    help: "Folder for this node's state (its node id)",
    defaultText: "$HOME/.exo-node",
    env: "EXO_NODE_HOME",
    path: {},
    parse: parseText,
  }),
  {
    kind: "action",
    name: "--help",
    short: "-h",
    action: "help",
    group: "General",
    help: "Print this help and exit",
  },
  {
    kind: "action",
    name: "--version",
    short: "-v",
    action: "version",
    group: "General",
    help: "Print the version and exit",
  },
];

/**
 * exo flags this build does not have, with the reason, so an exo command line gets a
 * better answer than "Unknown flag".
 */
export const EXO_ONLY_FLAGS: ReadonlyMap<string, string> = new Map([
  ["--run-model", "write `exo-node run <model>` instead"],
  ["--tailscale-api-key", "tailscale discovery is not supported yet"],
  ["--tailnet-name", "tailscale discovery is not supported yet"],
  ["--prometheus-client-port", "metrics are not supported yet"],
  ["--download-quick-check", "an exo flag this build does not have"],
  ["--default-temp", "requests set their own temperature"],
  ["--system-prompt", "requests carry their own system message"],
]);
