import { equal } from "node:assert/strict";
import { errorOf, HOME, options, PEERS } from "./_parse_helpers.ts";

const PATH_FLAGS = [
  ["--discovery-config-path", "discoveryConfigPath"],
  ["--models-seed-dir", "modelsSeedDir"],
  ["--cache-dir", "cacheDir"],
  ["--state-dir", "stateDir"],
  ["--compute-lock", "computeLock"],
  ["--cluster-secret-file", "clusterSecretFile"],
  ["--api-key-file", "apiKeyFile"],
] as const;

Deno.test("parseFlags makes every relative path absolute against the working folder", () => {
  for (const [flag, key] of PATH_FLAGS) {
    const peers = flag === "--discovery-config-path" ? [] : PEERS;
    const parsed = options([...peers, flag, "sub/../x.json"]);
    equal(parsed[key], "/home/ada/work/x.json", flag);
  }
});

Deno.test("parseFlags takes relative paths from INIT_CWD, where deno task was run", () => {
  const vars = { ...HOME, INIT_CWD: "/home/ada/cluster" };
  for (const [flag, key] of PATH_FLAGS) {
    const peers = flag === "--discovery-config-path" ? [] : PEERS;
    equal(options([...peers, flag, "./x"], vars)[key], "/home/ada/cluster/x", flag);
  }
  equal(options(PEERS, vars).discoveryConfigPath, "/home/ada/cluster/peers.json");
});

Deno.test("parseFlags ignores an INIT_CWD that is not absolute", () => {
  const vars = { ...HOME, INIT_CWD: "cluster" };
  equal(options(PEERS, vars).discoveryConfigPath, "/home/ada/work/peers.json");
});

Deno.test("parseFlags keeps absolute paths and the word none of --compute-lock", () => {
  equal(options([...PEERS, "--cache-dir", "/srv/shards"]).cacheDir, "/srv/shards");
  equal(options([...PEERS, "--compute-lock", "none"]).computeLock, "none");
});

Deno.test("parseFlags makes a relative EXO_NODE_HOME absolute too", () => {
  equal(options(PEERS, { ...HOME, EXO_NODE_HOME: "state" }).stateDir, "/home/ada/work/state");
});

Deno.test("parseFlags makes a model named by ./ or ../ absolute, and keeps model ids", () => {
  const vars = { ...HOME, INIT_CWD: "/home/ada/cluster" };
  equal(options(["run", "./llama"], vars).model, "/home/ada/cluster/llama");
  equal(options(["run", "../models/llama"], vars).model, "/home/ada/models/llama");
  equal(options(["run", "llama-3.2-1b"], vars).model, "llama-3.2-1b");
  equal(options(["run", "org/name"], vars).model, "org/name");
  equal(
    options([...PEERS, "--default-model", "./llama"], vars).defaultModel,
    "/home/ada/cluster/llama",
  );
  equal(options([...PEERS, "--default-model", "org/name"], vars).defaultModel, "org/name");
});

Deno.test("parseFlags refuses a secret given both on the line and in a file", () => {
  const secret = errorOf([...PEERS, "--cluster-secret", "s", "--cluster-secret-file", "f"]);
  equal(
    secret.message,
    "--cluster-secret and --cluster-secret-file give the same secret twice (give one)",
  );
  equal(secret.flag, "--cluster-secret");
  const key = errorOf([...PEERS, "--api-key-file=f", "--api-key=k"]);
  equal(key.message, "--api-key and --api-key-file give the same secret twice (give one)");
});

Deno.test("parseFlags lets a secret file stand beside the secret's environment variable", () => {
  const parsed = options([...PEERS, "--cluster-secret-file", "s"], {
    ...HOME,
    EXO_CLUSTER_SECRET: "from-env",
  });
  equal(parsed.clusterSecretFile, "/home/ada/work/s");
});
