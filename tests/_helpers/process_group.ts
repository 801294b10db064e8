/** A process seen in /proc. */
export interface ProcessEntry {
  pid: number;
  /** One letter: R running, S sleeping, Z zombie (exited, not yet reaped)... */
  state: string;
  command: string;
}

/**
 * The processes of process group `pgid` still alive (zombies left out), from /proc: a
 * child that lost its parent keeps its group, so this finds orphans too. Linux only.
 */
export async function processGroup(pgid: number): Promise<ProcessEntry[]> {
  const found: ProcessEntry[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    let cmdline: string;
    try {
      stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // ended while we looked
      throw error;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, _ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) !== pgid || state === "Z") continue;
    found.push({ pid: Number(entry.name), state, command: cmdline.replaceAll("\0", " ").trim() });
  }
  return found;
}

/** Sends `signal` to every process of group `pgid`, as a terminal's Ctrl-C does. */
export function signalGroup(pgid: number, signal: Deno.Signal): void {
  Deno.kill(-pgid, signal);
}
