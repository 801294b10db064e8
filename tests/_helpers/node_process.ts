import { waitUntil } from "./wait_until.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Options of a node process started for a test. */
export interface NodeProcessOptions {
  id: string;
  nodePort: number;
  apiPort: number;
  /** Manual discovery from this file; without it the node gets no discovery flags. */
  peersPath?: string;
  stateDir: string;
  args?: string[];
  env?: Record<string, string>;
  /**
   * A network namespace to run in (`ip netns exec`, as root): the node then listens on
   * every interface there and the test reaches its API at `host`.
   */
  netns?: { name: string; host: string };
}

/** A node started by a command line of the test's choice (`deno task start`, `npx ...`). */
export interface CommandProcessOptions {
  id: string;
  apiPort: number;
  nodePort: number;
  command: string;
  args: string[];
  cwd?: string;
  /** The whole environment: nothing of the test's is inherited (INIT_CWD would be). */
  env: Record<string, string>;
  /** A session and process group of its own, whose pid is the group's id. */
  detached?: boolean;
}

/**
 * A real exo-node process, on loopback or in a network namespace, its log lines collected. `stop` ends it (also when
 * a test fails) and waits for its output to be read.
 */
export class NodeProcess {
  readonly id: string;
  readonly apiPort: number;
  readonly nodePort: number;
  /** Where the test reaches the node's API. */
  readonly host: string;
  readonly logs: string[] = [];
  #child: Deno.ChildProcess;
  #reading: Promise<void>;
  #status: Promise<Deno.CommandStatus>;

  private constructor(
    options: Pick<NodeProcessOptions, "id" | "apiPort" | "nodePort" | "netns">,
    child: Deno.ChildProcess,
  ) {
    this.id = options.id;
    this.apiPort = options.apiPort;
    this.nodePort = options.nodePort;
    this.host = options.netns?.host ?? "127.0.0.1";
    this.#child = child;
    this.#status = child.status;
    this.#reading = Promise.all([
      this.#collect(child.stdout),
      this.#collect(child.stderr),
    ]).then(() => {});
  }

  /** Spawns `deno run main.ts` with exo's flags, on loopback unless given a namespace. */
  static spawn(options: NodeProcessOptions): NodeProcess {
    const args = [
      "run",
      "--allow-all",
      MAIN,
      "--node-id",
      options.id,
      "--node-host",
      options.netns ? "0.0.0.0" : "127.0.0.1",
      "--node-port",
      String(options.nodePort),
      "--chatgpt-api-port",
      String(options.apiPort),
      ...(options.peersPath === undefined
        ? []
        : ["--discovery-module", "manual", "--discovery-config-path", options.peersPath]),
      "--disable-tui",
      "--state-dir",
      options.stateDir,
      ...(options.args ?? []),
    ];
    // `ip netns exec` execs the program in place, so the child's pid is the node's.
    const [command, commandArgs] = options.netns
      ? ["ip", ["netns", "exec", options.netns.name, Deno.execPath(), ...args]]
      : [Deno.execPath(), args];
    const child = new Deno.Command(command, {
      args: commandArgs,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A test node never reaches the real Hugging Face hub: downloads are off and the
      // endpoint is a closed loopback port unless a test passes its own fake hub.
      env: {
        NO_COLOR: "1",
        HF_HUB_OFFLINE: "1",
        HF_ENDPOINT: "http://127.0.0.1:9",
        ...options.env,
      },
    }).spawn();
    return new NodeProcess(options, child);
  }

  /** Spawns `options.command` with its arguments, its output collected as a node's. */
  static spawnCommand(options: CommandProcessOptions): NodeProcess {
    const child = new Deno.Command(options.command, {
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      clearEnv: true,
      detached: options.detached,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new NodeProcess(options, child);
  }

  /** The process id of the command started (with `detached`, its process group's id too). */
  get pid(): number {
    return this.#child.pid;
  }

  /** How the process ended; resolves once it has. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** Waits until the output is read to its end (both pipes closed). */
  async drained(): Promise<void> {
    await this.#reading;
  }

  /** The base URL of the node's HTTP API. */
  get url(): string {
    return `http://${this.host}:${this.apiPort}`;
  }

  /** Resolves when /healthcheck answers, rejects if the process exits first. */
  async ready(timeoutMs = 30_000): Promise<void> {
    let exited = false;
    this.#status.then(() => exited = true);
    let healthy = false;
    const probe = async () => {
      try {
        const response = await fetch(`${this.url}/healthcheck`);
        await response.body?.cancel();
        healthy = response.ok;
      } catch {
        healthy = false;
      }
    };
    const started = performance.now();
    while (!healthy) {
      if (exited) {
        throw new Error(`Node ${this.id} exited before it was ready:\n${this.logs.join("\n")}`);
      }
      if (performance.now() - started > timeoutMs) {
        throw new Error(
          `Node ${this.id} not ready after ${timeoutMs} ms:\n${this.logs.join("\n")}`,
        );
      }
      await probe();
      if (!healthy) await waitUntil(() => exited, "a retry interval", 100).catch(() => {});
    }
  }

  /** GETs a JSON route of the node's API. */
  async getJson<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    const body = await response.json();
    if (!response.ok) throw new Error(`GET ${path} failed: ${JSON.stringify(body)}`);
    return body as T;
  }

  /** POSTs JSON and returns the status and parsed body. */
  async postJson(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  /** Whether any log line contains `text`. */
  logged(text: string): boolean {
    return this.logs.some((line) => line.includes(text));
  }

  /** Sends a signal (SIGKILL simulates a crash) and waits for the process to end. */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
    const status = await this.#status;
    await this.#reading;
    return status;
  }

  /** Ends the process if still running; safe to call twice. */
  async stop(): Promise<void> {
    await this.kill("SIGTERM");
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const lines = stream.pipeThrough(new TextDecoderStream());
    let partial = "";
    for await (const chunk of lines) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      this.logs.push(...parts);
    }
    if (partial) this.logs.push(partial);
  }
}

/** Stops every process, even if some stops fail. */
export async function stopAll(nodes: Iterable<NodeProcess | undefined>): Promise<void> {
  await Promise.allSettled([...nodes].filter((n) => n !== undefined).map((n) => n!.stop()));
}
