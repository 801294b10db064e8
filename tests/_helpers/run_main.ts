const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** What a finished `main.ts` process printed and returned. */
export interface MainOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `main.ts` as its own process with `args` and waits for it. The node's state lives in
 * `home`, or in a temporary folder removed afterwards; `env` adds to (or overrides) the
 * offline hub settings.
 */
export async function runMain(
  args: string[],
  home?: string,
  env: Record<string, string> = {},
): Promise<MainOutput> {
  const stateDir = home ?? await Deno.makeTempDir({ prefix: "exo_home_" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, ...args],
      stdin: "null",
      // Never the real Hugging Face hub (see NodeProcess.spawn).
      env: {
        NO_COLOR: "1",
        EXO_NODE_HOME: stateDir,
        HF_HUB_OFFLINE: "1",
        HF_ENDPOINT: "http://127.0.0.1:9",
        ...env,
      },
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    if (home === undefined) await Deno.remove(stateDir, { recursive: true });
  }
}
