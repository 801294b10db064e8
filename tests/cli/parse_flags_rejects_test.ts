import { deepStrictEqual } from "node:assert/strict";
import { errorOf, HOME, PEERS } from "./_parse_helpers.ts";

const LONG_ID = "a".repeat(65);

const REJECTED: {
  name: string;
  /** The peers file is added unless `withoutPeers`, so only the case's own problem shows. */
  args: string[];
  withoutPeers?: true;
  vars?: Record<string, string>;
  message: string;
  flag: string;
}[] = [
  {
    name: "a port above 65535",
    args: ["--node-port", "70000"],
    message: "Invalid value for --node-port: 70000 is not a port (1-65535, or 0 for a free port)",
    flag: "--node-port",
  },
  {
    name: "a port that is not a whole number",
    args: ["--node-port=5.5"],
    message: "Invalid value for --node-port: 5.5 is not a port (1-65535, or 0 for a free port)",
    flag: "--node-port",
  },
  {
    name: "a port written in hex",
    args: ["--chatgpt-api-port", "0x50"],
    message:
      "Invalid value for --chatgpt-api-port: 0x50 is not a port (1-65535, or 0 for a free port)",
    flag: "--chatgpt-api-port",
  },
  {
    name: "a misspelt flag, suggesting the right one",
    args: ["--nod-port", "5000"],
    message: "Unknown flag: --nod-port (did you mean --node-port?)",
    flag: "--nod-port",
  },
  {
    name: "a misspelt flag with an inline value, naming only the flag",
    args: ["--disable-tiu=1"],
    message: "Unknown flag: --disable-tiu (did you mean --disable-tui?)",
    flag: "--disable-tiu",
  },
  {
    name: "an unknown flag far from any known one",
    args: ["--frobnicate"],
    message: "Unknown flag: --frobnicate",
    flag: "--frobnicate",
  },
  {
    name: "an unknown short flag",
    args: ["-x"],
    message: "Unknown flag: -x",
    flag: "-x",
  },
  {
    name: "an exo flag this build lacks, with the reason",
    args: ["--run-model", "llama-3.2-1b"],
    message: "Unsupported flag: --run-model (write `exo-node run <model>` instead)",
    flag: "--run-model",
  },
  {
    name: "a value flag at the end of the line",
    args: ["--node-id"],
    message: "Missing value for --node-id",
    flag: "--node-id",
  },
  {
    name: "a value flag followed by another flag",
    args: ["--node-id", "--node-port", "5000"],
    message: "Missing value for --node-id",
    flag: "--node-id",
  },
  {
    name: "an empty inline value",
    args: ["--cluster-secret="],
    message: "Missing value for --cluster-secret",
    flag: "--cluster-secret",
  },
  {
    name: "a node id with a space",
    args: ["--node-id", "mac 1"],
    message:
      'Invalid value for --node-id: "mac 1" is not a valid node id (1-64 characters of A-Z a-z 0-9 . _ -)',
    flag: "--node-id",
  },
  {
    name: "a node id longer than 64 characters",
    args: [`--node-id=${LONG_ID}`],
    message: `Invalid value for --node-id: "${
      "a".repeat(40)
    }..." is not a valid node id (1-64 characters of A-Z a-z 0-9 . _ -)`,
    flag: "--node-id",
  },
  {
    name: "tailscale discovery as not supported yet",
    args: ["--discovery-module=tailscale"],
    message:
      "Invalid value for --discovery-module: tailscale is not supported yet (use udp or manual)",
    flag: "--discovery-module",
  },
  {
    name: "an unknown discovery module",
    args: ["--discovery-module", "carrier-pigeon"],
    message:
      "Invalid value for --discovery-module: carrier-pigeon is not a discovery module (expected udp or manual)",
    flag: "--discovery-module",
  },
  {
    name: "manual discovery without a peers file",
    args: ["--discovery-module", "manual"],
    withoutPeers: true,
    message:
      "--discovery-module manual needs --discovery-config-path (or use --discovery-module udp)",
    flag: "--discovery-config-path",
  },
  {
    name: "a UDP listen port of zero",
    args: ["--discovery-module", "udp", "--listen-port", "0"],
    message: "Invalid value for --listen-port: 0 is not a UDP port (1-65535)",
    flag: "--listen-port",
  },
  {
    name: "a UDP broadcast port above 65535",
    args: ["--discovery-module", "udp", "--broadcast-port=65536"],
    message: "Invalid value for --broadcast-port: 65536 is not a UDP port (1-65535)",
    flag: "--broadcast-port",
  },
  {
    name: "a UDP port that is a word",
    args: ["--discovery-module", "udp", "--listen-port", "udp"],
    message: "Invalid value for --listen-port: udp is not a UDP port (1-65535)",
    flag: "--listen-port",
  },
  {
    name: "a broadcast interval of zero",
    args: ["--discovery-module", "udp", "--broadcast-interval", "0"],
    message:
      "Invalid value for --broadcast-interval: 0 is not a number of seconds from 0.1 to 3600",
    flag: "--broadcast-interval",
  },
  {
    name: "a broadcast interval short enough to flood the network",
    args: ["--discovery-module", "udp", "--broadcast-interval", "0.01"],
    message:
      "Invalid value for --broadcast-interval: 0.01 is not a number of seconds from 0.1 to 3600",
    flag: "--broadcast-interval",
  },
  {
    name: "a broadcast interval in words",
    args: ["--discovery-module", "udp", "--broadcast-interval", "often"],
    message:
      "Invalid value for --broadcast-interval: often is not a number of seconds from 0.1 to 3600",
    flag: "--broadcast-interval",
  },
  {
    name: "a discovery timeout no longer than the broadcast interval",
    args: ["--discovery-module", "udp", "--discovery-timeout", "2", "--broadcast-interval", "2"],
    message:
      "Invalid value for --discovery-timeout: 2 s is not longer than --broadcast-interval 2 s (a peer would be forgotten between two announcements)",
    flag: "--discovery-timeout",
  },
  {
    name: "a broadcast interval beyond the default discovery timeout",
    args: ["--discovery-module", "udp", "--broadcast-interval=30"],
    message:
      "Invalid value for --broadcast-interval: 30 s is not shorter than --discovery-timeout 10 s (a peer would be forgotten between two announcements)",
    flag: "--broadcast-interval",
  },
  {
    name: "an unknown interface type",
    args: ["--discovery-module", "udp", "--interface-type-filter", "wifi,carrier-pigeon"],
    message:
      "Invalid value for --interface-type-filter: carrier-pigeon is not an interface type (expected thunderbolt, ethernet, wifi, other, container or vpn)",
    flag: "--interface-type-filter",
  },
  {
    name: "loopback as an interface type",
    args: ["--discovery-module", "udp", "--interface-type-filter", "loopback"],
    message:
      "Invalid value for --interface-type-filter: loopback is not an interface type (expected thunderbolt, ethernet, wifi, other, container or vpn)",
    flag: "--interface-type-filter",
  },
  {
    name: "an empty interface type",
    args: ["--discovery-module", "udp", "--interface-type-filter", "wifi,,ethernet"],
    message: 'Invalid value for --interface-type-filter: "wifi,,ethernet" has an empty entry',
    flag: "--interface-type-filter",
  },
  {
    name: "a UDP flag with manual discovery",
    args: ["--listen-port", "5679"],
    message: "--listen-port only applies to --discovery-module udp (this node uses manual)",
    flag: "--listen-port",
  },
  {
    name: "a UDP interval with manual discovery",
    args: ["--discovery-module", "manual", "--broadcast-interval", "1"],
    message: "--broadcast-interval only applies to --discovery-module udp (this node uses manual)",
    flag: "--broadcast-interval",
  },
  {
    name: "a discovery timeout of zero",
    args: ["--discovery-timeout", "0"],
    message: "Invalid value for --discovery-timeout: 0 is not a number of seconds > 0",
    flag: "--discovery-timeout",
  },
  {
    name: "a timeout too long for a timer",
    args: ["--chatgpt-api-response-timeout", "3000000"],
    message:
      "Invalid value for --chatgpt-api-response-timeout: 3000000 is more than 2147483 seconds",
    flag: "--chatgpt-api-response-timeout",
  },
  {
    name: "a response timeout that is not a number",
    args: ["--chatgpt-api-response-timeout", "soon"],
    message:
      "Invalid value for --chatgpt-api-response-timeout: soon is not a number of seconds > 0",
    flag: "--chatgpt-api-response-timeout",
  },
  {
    name: "a fractional peer count",
    args: ["--wait-for-peers", "1.5"],
    message: "Invalid value for --wait-for-peers: 1.5 is not a whole number >= 0",
    flag: "--wait-for-peers",
  },
  {
    name: "zero max generate tokens",
    args: ["--max-generate-tokens", "0"],
    message: "Invalid value for --max-generate-tokens: 0 is not a whole number >= 1",
    flag: "--max-generate-tokens",
  },
  {
    name: "exo's mlx engine, naming the one this build runs",
    args: ["--inference-engine", "mlx"],
    message: "Invalid value for --inference-engine: mlx is not available: this build runs onnx",
    flag: "--inference-engine",
  },
  {
    name: "exo's tinygrad engine, naming the one this build runs",
    args: ["--inference-engine", "tinygrad"],
    message:
      "Invalid value for --inference-engine: tinygrad is not available: this build runs onnx",
    flag: "--inference-engine",
  },
  {
    name: "an unknown inference engine",
    args: ["--inference-engine", "abacus"],
    message:
      "Invalid value for --inference-engine: abacus is not an inference engine (expected onnx)",
    flag: "--inference-engine",
  },
  {
    name: "an unknown dtype",
    args: ["--dtype", "int8"],
    message: "Invalid value for --dtype: int8 is not a dtype (expected float32, float16 or q4)",
    flag: "--dtype",
  },
  {
    name: "an unknown execution provider",
    args: ["--execution-provider", "cuda"],
    message:
      "Invalid value for --execution-provider: cuda is not an execution provider (expected auto, coreml, cpu or webgpu)",
    flag: "--execution-provider",
  },
  {
    name: "zero compute threads",
    args: ["--threads", "0"],
    message: "Invalid value for --threads: 0 is not a whole number >= 1",
    flag: "--threads",
  },
  {
    name: "an empty entry in the node id filter",
    args: ["--node-id-filter", "mac1,,mac2"],
    message: 'Invalid value for --node-id-filter: "mac1,,mac2" has an empty entry',
    flag: "--node-id-filter",
  },
  {
    name: "an invalid id in the node id filter",
    args: ["--node-id-filter", "mac1,mac/2"],
    message:
      'Invalid value for --node-id-filter: "mac/2" is not a valid node id (1-64 characters of A-Z a-z 0-9 . _ -)',
    flag: "--node-id-filter",
  },
  {
    name: "an empty EXO_CLUSTER_SECRET",
    args: [],
    vars: { ...HOME, EXO_CLUSTER_SECRET: "" },
    message: "Invalid value for EXO_CLUSTER_SECRET: empty (unset it or give a value)",
    flag: "--cluster-secret",
  },
  {
    name: "a blank cluster secret",
    args: ["--cluster-secret", "  "],
    message: 'Invalid value for --cluster-secret: "  " is blank',
    flag: "--cluster-secret",
  },
  {
    name: "an API origin without a scheme",
    args: ["--api-origins", "mac1.local:3000"],
    message:
      'Invalid value for --api-origins: "mac1.local:3000" is not an origin (write http://host or https://host:port, or *)',
    flag: "--api-origins",
  },
  {
    name: "an API origin with a path",
    args: ["--api-origins", "http://ui.example,http://ui.example/chat"],
    message:
      'Invalid value for --api-origins: "http://ui.example/chat" is not an origin (write http://host or https://host:port, or *)',
    flag: "--api-origins",
  },
  {
    name: "an API origin of another scheme",
    args: ["--api-origins", "ftp://ui.example"],
    message:
      'Invalid value for --api-origins: "ftp://ui.example" is not an origin (write http://host or https://host:port, or *)',
    flag: "--api-origins",
  },
  {
    name: "an empty entry in the API origins",
    args: ["--api-origins", "http://a.example,,http://b.example"],
    message:
      'Invalid value for --api-origins: "http://a.example,,http://b.example" has an empty entry',
    flag: "--api-origins",
  },
  {
    name: "* mixed with API origins",
    args: ["--api-origins", "*,http://a.example"],
    message: 'Invalid value for --api-origins: "*,http://a.example" mixes * with other entries',
    flag: "--api-origins",
  },
  {
    name: "an API host with a scheme",
    args: ["--api-hosts", "http://mac1.example"],
    message:
      'Invalid value for --api-hosts: "http://mac1.example" is not a host name or address (write it without scheme or port, or *)',
    flag: "--api-hosts",
  },
  {
    name: "an API host with a port",
    args: ["--api-hosts", "mac1.example:52415"],
    message:
      'Invalid value for --api-hosts: "mac1.example:52415" is not a host name or address (write it without scheme or port, or *)',
    flag: "--api-hosts",
  },
  {
    name: "an API host with a space",
    args: ["--api-hosts", "mac1,my mac"],
    message:
      'Invalid value for --api-hosts: "my mac" is not a host name or address (write it without scheme or port, or *)',
    flag: "--api-hosts",
  },
  {
    name: "an API key with a space, without repeating the key",
    args: ["--api-key", "my secret key"],
    message:
      "Invalid value for --api-key: the key must be printable ASCII without spaces (a bearer token)",
    flag: "--api-key",
  },
  {
    name: "an empty EXO_API_KEY",
    args: [],
    vars: { ...HOME, EXO_API_KEY: "" },
    message: "Invalid value for EXO_API_KEY: empty (unset it or give a value)",
    flag: "--api-key",
  },
  {
    name: "an EXO_API_KEY outside printable ASCII",
    args: [],
    vars: { ...HOME, EXO_API_KEY: "clé" },
    message:
      "Invalid value for EXO_API_KEY: the key must be printable ASCII without spaces (a bearer token)",
    flag: "--api-key",
  },
  {
    name: "an unknown log level",
    args: ["--log-level", "loud"],
    message:
      "Invalid value for --log-level: loud is not a log level (expected debug, info, warn or error)",
    flag: "--log-level",
  },
  {
    name: "zero device memory",
    args: ["--device-memory", "0"],
    message: "Invalid value for --device-memory: 0 is not a whole number >= 1",
    flag: "--device-memory",
  },
  {
    name: "device TFLOPS that are not a number",
    args: ["--device-tflops", "fast"],
    message: "Invalid value for --device-tflops: fast is not a number > 0",
    flag: "--device-tflops",
  },
  {
    name: "a node host with a space",
    args: ["--node-host", "my mac"],
    message: 'Invalid value for --node-host: "my mac" is not a host name or address',
    flag: "--node-host",
  },
  {
    name: "--disable-tui false, which would otherwise read as a command",
    args: ["--disable-tui", "false"],
    message:
      "Invalid value for --disable-tui: a switch takes no value (write --disable-tui or --no-disable-tui alone)",
    flag: "--disable-tui",
  },
  {
    name: "--disable-tui=false",
    args: ["--disable-tui=false"],
    message:
      "Invalid value for --disable-tui: a switch takes no value (write --disable-tui or --no-disable-tui alone)",
    flag: "--disable-tui",
  },
  {
    name: "--no-disable-tui=true",
    args: ["--no-disable-tui=true"],
    message:
      "Invalid value for --no-disable-tui: a switch takes no value (write --disable-tui or --no-disable-tui alone)",
    flag: "--disable-tui",
  },
  {
    name: "a repeated flag",
    args: ["--node-port", "5000", "--node-port=5001"],
    message: "Repeated flag: --node-port (give it once)",
    flag: "--node-port",
  },
  {
    name: "a switch given both ways",
    args: ["--disable-tui", "--no-disable-tui"],
    message: "Repeated flag: --no-disable-tui (give it once)",
    flag: "--disable-tui",
  },
  {
    name: "run without a model",
    args: ["run"],
    message: "Missing model for run: write exo-node run <model>",
    flag: "run",
  },
  {
    name: "run with two models",
    args: ["run", "llama", "qwen"],
    message: "Unexpected argument: qwen",
    flag: "qwen",
  },
  {
    name: "an unknown command",
    args: ["llama"],
    message: "Unknown command: llama (expected run)",
    flag: "llama",
  },
  {
    name: "exo's train command",
    args: ["train", "llama"],
    message: "Unsupported command: train (this build offers run)",
    flag: "train",
  },
  {
    name: "--prompt without run",
    args: ["--prompt", "hi"],
    message: "--prompt only applies to run: write exo-node run <model> --prompt ...",
    flag: "--prompt",
  },
  {
    name: "the API on the peer port",
    args: ["--node-port", "6000", "--chatgpt-api-port", "6000"],
    message: "Invalid value for --chatgpt-api-port: 6000 is already the --node-port",
    flag: "--chatgpt-api-port",
  },
  {
    name: "a missing state directory when HOME is unset",
    args: [],
    vars: {},
    message: "Cannot choose a state directory: set --state-dir, EXO_NODE_HOME or HOME",
    flag: "--state-dir",
  },
  {
    name: "a value given to --help",
    args: ["--help=yes"],
    message: "Invalid value for --help: it takes no value",
    flag: "--help",
  },
  {
    name: "a value with a line break, keeping the message on one line",
    args: ["--node-port", "50\n51"],
    message:
      'Invalid value for --node-port: "50\\n51" is not a port (1-65535, or 0 for a free port)',
    flag: "--node-port",
  },
];

for (const { name, args, vars, withoutPeers, message, flag } of REJECTED) {
  Deno.test(`parseFlags rejects ${name}`, () => {
    deepStrictEqual(errorOf(withoutPeers ? args : [...PEERS, ...args], vars), { message, flag });
  });
}
