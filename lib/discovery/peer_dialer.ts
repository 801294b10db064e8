import type { Logger } from "../log/logger.ts";
import type { AnnouncedTarget } from "./announced_peers.ts";

/** Settings of a {@linkcode PeerDialer}. */
export interface PeerDialerOptions {
  /** Opens one connection and runs the handshake; rejects with the reason it failed. */
  dial(target: AnnouncedTarget): Promise<void>;
  logger: Logger;
  /**
   * Wait after the first announcement before dialing, so the announcements a node sends
   * on its other interfaces in the same round arrive and the best link is chosen.
   */
  settleMs?: number;
  /** Least and most time between attempts on one node after failures. */
  backoff?: { initialMs: number; maxMs: number };
}

interface State {
  timer?: ReturnType<typeof setTimeout>;
  dialing: boolean;
  failures: number;
  /** No attempt before this time (performance.now() ms). */
  notBefore: number;
}

/**
 * Dials announced nodes: at most one attempt per node at a time, a short wait before the
 * first so every interface a node announced on is known, and a growing pause after each
 * failure (an announcement every 2.5 s must not become a connection attempt every 2.5 s to
 * a node that refuses this one). Every timer and attempt ends with {@linkcode close}.
 */
export class PeerDialer {
  #options: PeerDialerOptions;
  #states = new Map<string, State>();
  #attempts = new Set<Promise<void>>();
  #closed = false;

  /** Creates a dialer. */
  constructor(options: PeerDialerOptions) {
    this.#options = options;
  }

  /**
   * Asks for a connection to `id`; `target` is called when the attempt starts, so it can
   * pick among every address heard by then (null: nothing to dial any more). Ignored while
   * an attempt is scheduled or running, or during the pause after a failure.
   */
  request(id: string, target: () => AnnouncedTarget | null): void {
    if (this.#closed) return;
    const state = this.#states.get(id) ?? { dialing: false, failures: 0, notBefore: 0 };
    this.#states.set(id, state);
    if (state.dialing || state.timer !== undefined || performance.now() < state.notBefore) return;
    const wait = state.failures === 0 ? this.#options.settleMs ?? 150 : 0;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      const chosen = target();
      if (chosen === null || this.#closed) return;
      this.#attempt(state, chosen);
    }, wait);
  }

  /** Forgets a node's failures, e.g. once it is connected some other way. */
  reset(id: string): void {
    const state = this.#states.get(id);
    if (state === undefined || state.dialing || state.timer !== undefined) return;
    this.#states.delete(id);
  }

  /** Cancels scheduled attempts and waits for running ones to end. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#states.values()) clearTimeout(state.timer);
    while (this.#attempts.size > 0) await Promise.allSettled([...this.#attempts]);
  }

  #attempt(state: State, target: AnnouncedTarget): void {
    const { logger } = this.#options;
    const where =
      `${target.id} at ${target.host}:${target.port} over ${target.via.name} (${target.via.type})`;
    logger.debug(`Connecting to ${where}`);
    state.dialing = true;
    const attempt = this.#options.dial(target).then(
      () => {
        if (state.failures > 0) logger.info(`Reached ${where}`);
        state.failures = 0;
        state.notBefore = 0;
      },
      (error) => {
        state.failures++;
        const { initialMs, maxMs } = this.#options.backoff ?? { initialMs: 1000, maxMs: 15_000 };
        state.notBefore = performance.now() +
          Math.min(maxMs, initialMs * 2 ** (state.failures - 1));
        // The first failure is worth a warning; repeats while it keeps failing are noise.
        const message = `Cannot connect to ${where}: ${
          error instanceof Error ? error.message : String(error)
        }`;
        if (state.failures === 1) logger.warn(message);
        else logger.debug(`${message} (attempt ${state.failures})`);
      },
    ).finally(() => {
      state.dialing = false;
      this.#attempts.delete(attempt);
    });
    this.#attempts.add(attempt);
  }
}
