/**
 * Local clusters of real exo-node processes on loopback, for `deno task demo` and
 * `deno task bench:cluster`: free ports, a peers file per node naming every other node
 * with equal memory (so the layer split is even), a temporary state dir, readiness by
 * polling `/healthcheck` and `/v1/topology`, and a stop that sends SIGTERM and waits for
 * every process to exit (SIGKILL after a grace period).
 * @module
 */
import type { TopologySnapshot } from "../lib/node/mod.ts";
import { freePort } from "../tests/_helpers/free_port.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
/** Log lines kept per node, to show when something fails. */
const KEPT_LOG_LINES = 200;
const POLL_MS = 100;
const STOP_GRACE_MS = 10_000;

/** How to start a local cluster. */
export interface LocalClusterOptions {
  /** Node ids, in order; the first one is the node clients talk to. */
  ids: string[];
  /** Model directory every node serves (`--default-model`). */
  modelDir: string;
  /** `--dtype`; the node's default when absent. */
  dtype?: string;
  /** `--cache-dir` for converted shard graphs, shared by the nodes (their ranges differ). */
  cacheDir?: string;
  /** Memory in MB every node reports and is given in the peers files (default 8192). */
  memoryMb?: number;
  /** More flags for every node. */
  args?: string[];
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Called with every log line of every node. */
  onLog?: (nodeId: string, line: string) => void;
  /** The entry node's API port (the others get free ports); a free port when absent. */
  entryApiPort?: number;
}

/** One node process of a {@linkcode LocalCluster}. */
export class LocalNode {
  readonly id: string;
  readonly apiPort: number;
  readonly nodePort: number;
  readonly logs: string[] = [];
  #child: Deno.ChildProcess;
  #status: Promise<Deno.CommandStatus>;
  #reading: Promise<void>;
  #exited = false;

  constructor(
    id: string,
    ports: { apiPort: number; nodePort: number },
    child: Deno.ChildProcess,
    onLog?: (nodeId: string, line: string) => void,
  ) {
    this.id = id;
    this.apiPort = ports.apiPort;
    this.nodePort = ports.nodePort;
    this.#child = child;
    this.#status = child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    const keep = (line: string) => {
      this.logs.push(line);
      if (this.logs.length > KEPT_LOG_LINES) this.logs.shift();
      onLog?.(id, line);
    };
    this.#reading = Promise.all([
      collectLines(child.stdout, keep),
      collectLines(child.stderr, keep),
    ])
      .then(() => {});
  }

  /** The base URL of the node's HTTP API. */
  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** The operating system's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.#exited;
  }

  /** GETs a JSON route of the node's API. */
  async getJson<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    const body = await response.json();
    if (!response.ok) throw new Error(`GET ${path} on ${this.id} failed: ${JSON.stringify(body)}`);
    return body as T;
  }

  /** Sends SIGTERM, waits for the exit (SIGKILL after a grace period); safe to call twice. */
  async stop(): Promise<Deno.CommandStatus> {
    signal(this.#child, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        signal(this.#child, "SIGKILL");
        resolve();
      }, STOP_GRACE_MS);
    });
    const status = await Promise.race([this.#status, killed.then(() => this.#status)]);
    clearTimeout(timer);
    await this.#reading;
    return status;
  }
}

/** A few exo-node processes on loopback that are all peers of each other. */
export class LocalCluster {
  readonly nodes: LocalNode[];
  readonly dir: string;

  private constructor(dir: string, nodes: LocalNode[]) {
    this.dir = dir;
    this.nodes = nodes;
  }

  /** The node clients talk to (the first id). */
  get entry(): LocalNode {
    return this.nodes[0];
  }

  /**
   * Starts one process per id with its own peers file and state dir under a new temporary
   * directory. Does not wait for readiness: see {@linkcode LocalCluster.ready}. A cluster
   * that fails to start is stopped before the error is thrown.
   */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const dir = await Deno.makeTempDir({ prefix: "exo-node-cluster-" });
    const memory = options.memoryMb ?? 8192;
    const ports = options.ids.map((_, i) => ({
      nodePort: freePort(),
      apiPort: i === 0 && options.entryApiPort !== undefined ? options.entryApiPort : freePort(),
    }));
    const nodes: LocalNode[] = [];
    const cluster = new LocalCluster(dir, nodes);
    try {
      for (const [i, id] of options.ids.entries()) {
        const peers = Object.fromEntries(
          options.ids.flatMap((peerId, j) =>
            j === i ? [] : [[peerId, {
              address: `127.0.0.1:${ports[j].nodePort}`,
              device_capabilities: {
                model: "local process",
                chip: "local",
                memory,
                flops: { fp32: 0, fp16: 0, int8: 0 },
              },
            }]]
          ),
        );
        const peersPath = `${dir}/${id}_peers.json`;
        await Deno.writeTextFile(peersPath, JSON.stringify({ peers }, null, 2));
        const args = [
          "run",
          "--allow-all",
          "--config",
          CONFIG,
          MAIN,
          "--node-id",
          id,
          "--node-host",
          "127.0.0.1",
          "--node-port",
          String(ports[i].nodePort),
          "--chatgpt-api-port",
          String(ports[i].apiPort),
          "--discovery-module",
          "manual",
          "--discovery-config-path",
          peersPath,
          "--disable-tui",
          "--state-dir",
          `${dir}/state-${id}`,
          "--default-model",
          options.modelDir,
          "--device-memory",
          String(memory),
          ...(options.dtype ? ["--dtype", options.dtype] : []),
          ...(options.cacheDir ? ["--cache-dir", options.cacheDir] : []),
          ...(options.args ?? []),
        ];
        const child = new Deno.Command(Deno.execPath(), {
          args,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1", ...options.env },
        }).spawn();
        nodes.push(new LocalNode(id, ports[i], child, options.onLog));
      }
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /**
   * Resolves once every node answers `/healthcheck`, sees every other node alive, and
   * plans requests over all of them; rejects (with the nodes' last log lines) when a node
   * exits first or after `timeoutMs`.
   */
  async ready(timeoutMs = 120_000): Promise<void> {
    const ids = this.nodes.map((node) => node.id).sort();
    const started = performance.now();
    for (const node of this.nodes) {
      while (!(await this.#nodeReady(node, ids))) {
        const dead = this.nodes.find((n) => n.exited);
        if (dead) throw new Error(`Node ${dead.id} exited before the cluster was ready`);
        if (performance.now() - started > timeoutMs) {
          throw new Error(`The cluster was not ready after ${timeoutMs / 1000} s`);
        }
        await delay(POLL_MS);
      }
    }
  }

  /** The layer split the entry node plans for a request now. */
  async partition(): Promise<{ node_id: string; start_layer: number; end_layer: number }[]> {
    const topology = await this.entry.getJson<TopologySnapshot>("/v1/topology");
    return topology.partition?.shards ?? [];
  }

  /** The last log lines of every node, for an error report. */
  logTail(lines = 20): string {
    return this.nodes.map((node) =>
      `--- node ${node.id} (last ${Math.min(lines, node.logs.length)} log lines) ---\n` +
      node.logs.slice(-lines).join("\n")
    ).join("\n");
  }

  /** Stops every node (also when some stops fail) and removes the temporary directory. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async #nodeReady(node: LocalNode, ids: string[]): Promise<boolean> {
    try {
      const topology = await node.getJson<TopologySnapshot>("/v1/topology");
      const alive = topology.nodes.filter((n) => n.alive).map((n) => n.id).sort();
      const planned = (topology.partition?.shards ?? []).map((s) => s.node_id).sort();
      return same(alive, ids) && same(planned, ids);
    } catch {
      return false; // not listening yet
    }
  }
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // already exited
  }
}

async function collectLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  for await (const line of readLines(stream)) onLine(line);
}

/** The lines of a byte stream as they arrive (a last line without "\n" included). */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let partial = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    yield* parts;
  }
  if (partial) yield partial;
}
