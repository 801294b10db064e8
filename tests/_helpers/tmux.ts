const decoder = new TextDecoder();

/** Whether tmux can be run here. */
export function hasTmux(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * A tmux server of its own (a unique socket, no user config) for a real-terminal test.
 * `kill` ends the server and every process in its panes; call it in `finally`.
 */
export class Tmux {
  readonly socket = `exo-tui-${crypto.randomUUID().slice(0, 8)}`;

  /** Runs a tmux command; returns its stdout; throws with its stderr when it fails. */
  async run(...args: string[]): Promise<string> {
    const output = await new Deno.Command("tmux", {
      args: ["-L", this.socket, "-f", "/dev/null", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`tmux ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`);
    }
    return decoder.decode(output.stdout);
  }

  /**
   * Starts `command` (argv, no shell) in a new session of `columns` × `rows`, kept after
   * the command exits so its last screen and exit status can be read.
   */
  async start(
    session: string,
    command: string[],
    size: { columns: number; rows: number },
    env: Record<string, string> = {},
  ): Promise<void> {
    await this.run(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      String(size.columns),
      "-y",
      String(size.rows),
      "sleep 3600",
    );
    await this.run("set-option", "-t", session, "remain-on-exit", "on");
    await this.run(
      "respawn-pane",
      "-k",
      "-t",
      session,
      ...Object.entries(env).flatMap(([key, value]) => ["-e", `${key}=${value}`]),
      command.map(shellQuote).join(" "),
    );
  }

  /** The visible screen of a session's pane, one string per row. */
  async capture(session: string): Promise<string[]> {
    const text = await this.run("capture-pane", "-p", "-t", session);
    return text.replace(/\n$/, "").split("\n");
  }

  /** A tmux format of the session's pane, e.g. `#{alternate_on}`. */
  async display(session: string, format: string): Promise<string> {
    return (await this.run("display-message", "-p", "-t", session, format)).trim();
  }

  /** Ends the server and everything running in it, and removes its socket; never throws. */
  async kill(): Promise<void> {
    const path = await this.run("display-message", "-p", "#{socket_path}").catch(() => "");
    await this.run("kill-server").catch(() => {});
    if (path.trim() !== "") await Deno.remove(path.trim()).catch(() => {});
  }
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
