/**
 * Turns on a machine's cores, shared by every exo-node process that opens the same lock
 * file. Each shard run already uses all cores; two runs at once on one machine (several
 * nodes started on one computer, as in tests and benchmarks) only fight: each thread pool
 * waits on threads the other one preempted, and both runs take longer than the two would
 * one after the other. Taking turns also lets steps that arrive while another node computes
 * pile up, so the next run batches them.
 *
 * The turn is an exclusive `flock` on the file: a free turn is taken at once, a busy one is
 * waited for off the event loop. The kernel drops it when a process dies, so a crashed node
 * never blocks the others. Nodes on different machines use different files and never wait
 * for each other. Callers pass the turn on before they send a run's output to another node
 * (see ShardWorker): a node woken by those bytes that finds the turn still held waits on a
 * pool thread, which cost up to 1 ms a hop and slowed the runs after it.
 *
 * @example Usage
 * ```ts
 * const turn = await ComputeTurn.open("/tmp/exo-node-compute.lock");
 * const output = await turn.run(() => session.run(feeds));
 * turn.close();
 * ```
 */
export class ComputeTurn {
  #file: Deno.FsFile;
  /** Runs of this process queue here first: a second flock on one file would not wait. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Opens (creating) the lock file at `path` and checks that it can be locked (some network
   * file systems cannot), so runs never fail on it later.
   * @throws {Error} naming the path, when the file cannot be opened or locked.
   */
  static async open(path: string): Promise<ComputeTurn> {
    const file = await ComputeTurn.#openFile(path);
    try {
      await file.lock(true);
      file.unlockSync();
    } catch (error) {
      file.close();
      throw new Error(
        `Cannot lock the compute lock file ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return new ComputeTurn(file);
  }

  static async #openFile(path: string): Promise<Deno.FsFile> {
    try {
      return await Deno.open(path, { read: true, write: true, create: true });
    } catch (error) {
      // Another user's file can still be locked through a read-only handle.
      if (error instanceof Deno.errors.PermissionDenied) {
        try {
          return await Deno.open(path, { read: true });
        } catch {
          // Reported below with the first error, which says more.
        }
      }
      throw new Error(
        `Cannot open the compute lock file ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Runs `work` while holding the turn; the turn passes on when it settles. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(async () => {
      if (this.#closed) return await work();
      try {
        await this.#file.lock(true);
      } catch (error) {
        // Closed while waiting: the engine is shutting down, so the run goes ahead alone.
        if (this.#closed) return await work();
        throw error;
      }
      try {
        return await work();
      } finally {
        if (!this.#closed) this.#file.unlockSync();
      }
    });
    this.#chain = result.catch(() => {});
    return result;
  }

  /** Closes the file; runs after this no longer take turns. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}
