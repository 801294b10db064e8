import { deepStrictEqual, equal } from "node:assert/strict";
import { type NodeOptions, parseFlags } from "../../lib/cli/mod.ts";
import { CWD, envOf, errorOf, HOME, options, PEERS } from "./_parse_helpers.ts";

const DEFAULTS: NodeOptions = {
  command: "serve",
  discoveryConfigPath: "/home/ada/work/peers.json",
  nodeHost: "0.0.0.0",
  nodePort: 50051,
  discoveryModule: "manual",
  discoveryTimeout: 30,
  listenPort: 5678,
  broadcastPort: 5678,
  broadcastInterval: 2.5,
  waitForPeers: 0,
  chatgptApiPort: 52415,
  chatgptApiResponseTimeout: 900,
  disableTui: false,
  maxGenerateTokens: 10000,
  inferenceEngine: "onnx",
  maxParallelDownloads: 8,
  offline: false,
  executionProvider: "auto",
  reprobe: false,
  logLevel: "info",
  stateDir: "/home/ada/.exo-node",
};

Deno.test("parseFlags fills every default when serving", () => {
  deepStrictEqual(options(PEERS), DEFAULTS);
});

Deno.test("parseFlags takes run's model and needs no peers file for it", () => {
  const { discoveryConfigPath: _, ...rest } = DEFAULTS;
  deepStrictEqual(options(["run", "llama-3.2-1b"]), {
    ...rest,
    discoveryModule: "udp",
    discoveryTimeout: 10,
    command: "run",
    model: "llama-3.2-1b",
  });
});

Deno.test("parseFlags chooses udp discovery when no peers file is given", () => {
  const { discoveryConfigPath: _, ...rest } = DEFAULTS;
  deepStrictEqual(options([]), { ...rest, discoveryModule: "udp", discoveryTimeout: 10 });
});

Deno.test("parseFlags keeps a peers file beside udp discovery", () => {
  const parsed = options(["--discovery-module", "UDP", ...PEERS]);
  deepStrictEqual(
    [parsed.discoveryModule, parsed.discoveryConfigPath, parsed.discoveryTimeout],
    ["udp", "/home/ada/work/peers.json", 10],
  );
});

Deno.test("parseFlags reads the UDP discovery flags", () => {
  const parsed = options([
    "--listen-port",
    "6001",
    "--broadcast-port=6002",
    "--broadcast-interval",
    "0.5",
    "--discovery-timeout",
    "4",
    "--interface-type-filter",
    " Ethernet,thunderbolt ,ethernet",
  ]);
  deepStrictEqual(
    [
      parsed.discoveryModule,
      parsed.listenPort,
      parsed.broadcastPort,
      parsed.broadcastInterval,
      parsed.discoveryTimeout,
      parsed.interfaceTypeFilter,
    ],
    ["udp", 6001, 6002, 0.5, 4, ["ethernet", "thunderbolt"]],
  );
});

Deno.test("parseFlags accepts serve as an explicit command", () => {
  deepStrictEqual(options(["serve", ...PEERS]), DEFAULTS);
});

const EVERY_FLAG: [string, string | undefined][] = [
  ["--prompt", "Who are you?"],
  ["--node-id", "mac1"],
  ["--node-host", "127.0.0.1"],
  ["--node-port", "6000"],
  ["--discovery-module", "manual"],
  ["--discovery-config-path", "/etc/exo/peers.json"],
  ["--discovery-timeout", "2.5"],
  ["--listen-port", "6001"],
  ["--broadcast-port", "6002"],
  ["--broadcast-interval", "0.5"],
  ["--interface-type-filter", "wifi"],
  ["--wait-for-peers", "2"],
  ["--chatgpt-api-port", "8000"],
  ["--chatgpt-api-response-timeout", "60"],
  ["--disable-tui", undefined],
  ["--default-model", "llama-3.2-1b"],
  ["--max-generate-tokens", "256"],
  ["--inference-engine", "onnx"],
  ["--models-seed-dir", "/srv/models"],
  ["--max-parallel-downloads", "3"],
  ["--offline", undefined],
  ["--execution-provider", "CPU"],
  ["--reprobe", undefined],
  ["--dtype", "float16"],
  ["--cache-dir", "/srv/shards"],
  ["--node-id-filter", " mac1, mac2 ,mac1"],
  ["--cluster-secret", "s3cret"],
  ["--api-origins", "http://Mac1.local:3000/, https://chat.example"],
  ["--api-hosts", "Mac1.example,10.0.0.5, ::2"],
  ["--api-key", "sk-local-123"],
  ["--log-level", "DEBUG"],
  ["--device-memory", "16384"],
  ["--device-chip", "Apple M2 Max"],
  ["--device-tflops", "13.49"],
  ["--state-dir", "/var/lib/exo"],
];

const EVERY_VALUE: NodeOptions = {
  command: "run",
  model: "llama-3.2-1b",
  prompt: "Who are you?",
  nodeId: "mac1",
  nodeHost: "127.0.0.1",
  nodePort: 6000,
  discoveryModule: "manual",
  discoveryConfigPath: "/etc/exo/peers.json",
  discoveryTimeout: 2.5,
  listenPort: 6001,
  broadcastPort: 6002,
  broadcastInterval: 0.5,
  interfaceTypeFilter: ["wifi"],
  waitForPeers: 2,
  chatgptApiPort: 8000,
  chatgptApiResponseTimeout: 60,
  disableTui: true,
  defaultModel: "llama-3.2-1b",
  maxGenerateTokens: 256,
  inferenceEngine: "onnx",
  modelsSeedDir: "/srv/models",
  maxParallelDownloads: 3,
  offline: true,
  executionProvider: "cpu",
  reprobe: true,
  dtype: "float16",
  cacheDir: "/srv/shards",
  nodeIdFilter: ["mac1", "mac2"],
  clusterSecret: "s3cret",
  apiOrigins: ["http://mac1.local:3000", "https://chat.example"],
  apiHosts: ["mac1.example", "10.0.0.5", "::2"],
  apiKey: "sk-local-123",
  logLevel: "debug",
  deviceMemoryMb: 16384,
  deviceChip: "Apple M2 Max",
  deviceFlops: 13.49,
  stateDir: "/var/lib/exo",
};

Deno.test("parseFlags reads every flag written as --flag value", () => {
  const args = EVERY_FLAG.flatMap(([flag, value]) => value === undefined ? [flag] : [flag, value]);
  deepStrictEqual(options(["run", "llama-3.2-1b", ...args]), EVERY_VALUE);
});

Deno.test("parseFlags reads every flag written as --flag=value", () => {
  const args = EVERY_FLAG.map(([flag, value]) => value === undefined ? flag : `${flag}=${value}`);
  deepStrictEqual(options([...args, "run", "llama-3.2-1b"]), EVERY_VALUE);
});

Deno.test("parseFlags answers help and version, long and short", () => {
  deepStrictEqual(parseFlags(["--help"], envOf(), CWD), { help: true });
  deepStrictEqual(parseFlags(["-h"], envOf(), CWD), { help: true });
  deepStrictEqual(parseFlags(["--version"], envOf(), CWD), { version: true });
  deepStrictEqual(parseFlags(["-v"], envOf(), CWD), { version: true });
});

Deno.test("parseFlags answers help even when the rest of the line is wrong", () => {
  deepStrictEqual(parseFlags(["--nod-port", "x", "bogus", "--help"], envOf({}), CWD), {
    help: true,
  });
});

Deno.test("parseFlags treats everything after -- as arguments", () => {
  equal(options(["run", "--", "-h"]).model, "-h");
});

Deno.test("parseFlags takes the cluster secret from EXO_CLUSTER_SECRET", () => {
  const vars = { ...HOME, EXO_CLUSTER_SECRET: "from-env" };
  equal(options(PEERS, vars).clusterSecret, "from-env");
  equal(options([...PEERS, "--cluster-secret", "from-flag"], vars).clusterSecret, "from-flag");
});

Deno.test("parseFlags takes the API key from EXO_API_KEY, the flag winning", () => {
  const vars = { ...HOME, EXO_API_KEY: "sk-from-env" };
  equal(options(PEERS, vars).apiKey, "sk-from-env");
  equal(options([...PEERS, "--api-key", "sk-from-flag"], vars).apiKey, "sk-from-flag");
  equal(options(PEERS).apiKey, undefined);
});

Deno.test("parseFlags reads * alone as any origin or any host", () => {
  const parsed = options([...PEERS, "--api-origins", "*", "--api-hosts=*"]);
  deepStrictEqual([parsed.apiOrigins, parsed.apiHosts], [["*"], ["*"]]);
});

Deno.test("parseFlags keeps one of each repeated origin or host, and brackets of IPv6", () => {
  const parsed = options([
    ...PEERS,
    "--api-origins",
    "http://a.example,HTTP://A.example:80",
    "--api-hosts",
    "a.example,A.EXAMPLE,[::1]",
  ]);
  deepStrictEqual(parsed.apiOrigins, ["http://a.example"]);
  deepStrictEqual(parsed.apiHosts, ["a.example", "[::1]"]);
});

Deno.test("parseFlags takes the state dir from --state-dir, else EXO_NODE_HOME, else HOME", () => {
  const vars = { ...HOME, EXO_NODE_HOME: "/srv/exo" };
  equal(options([...PEERS, "--state-dir", "/tmp/s"], vars).stateDir, "/tmp/s");
  equal(options(PEERS, vars).stateDir, "/srv/exo");
  equal(options(PEERS).stateDir, "/home/ada/.exo-node");
  equal(options([...PEERS, "--state-dir", "/tmp/s"], {}).stateDir, "/tmp/s");
});

Deno.test("parseFlags turns the TUI back off with exo's --no-disable-tui", () => {
  equal(options([...PEERS, "--no-disable-tui"]).disableTui, false);
  equal(options([...PEERS, "--disable-tui"]).disableTui, true);
});

Deno.test("parseFlags allows port 0 for both listeners", () => {
  const parsed = options([...PEERS, "--node-port", "0", "--chatgpt-api-port", "0"]);
  deepStrictEqual([parsed.nodePort, parsed.chatgptApiPort], [0, 0]);
});

Deno.test("parseFlags takes a negative number after a flag as its value", () => {
  deepStrictEqual(errorOf([...PEERS, "--wait-for-peers", "-1"]), {
    message: "Invalid value for --wait-for-peers: -1 is not a whole number >= 0",
    flag: "--wait-for-peers",
  });
});

Deno.test("parseFlags takes a value starting with a dash after an equals sign", () => {
  equal(options(["run", "m", "--prompt=-list three colours"]).prompt, "-list three colours");
});

Deno.test("parseFlags takes webgpu as an execution provider", () => {
  deepStrictEqual(
    options([...PEERS, "--execution-provider", "webgpu"]).executionProvider,
    "webgpu",
  );
});

Deno.test("parseFlags takes a thread count, absent by default (the performance cores)", () => {
  equal(options([...PEERS, "--threads", "6"]).threads, 6);
  equal(options(PEERS).threads, undefined);
});
