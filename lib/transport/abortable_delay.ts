/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (never rejects), leaving no
 * timer behind either way.
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Exponential backoff delays: `initialMs`, doubled each failure up to `maxMs`. */
export class Backoff {
  #initialMs: number;
  #maxMs: number;
  #nextMs: number;

  /** Creates a backoff starting at `initialMs` and capped at `maxMs`. */
  constructor(initialMs: number, maxMs: number) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#nextMs = initialMs;
  }

  /** Returns the delay to wait before the next attempt and doubles the one after. */
  next(): number {
    const current = this.#nextMs;
    this.#nextMs = Math.min(this.#maxMs, this.#nextMs * 2);
    return current;
  }

  /** Starts over after a success. */
  reset(): void {
    this.#nextMs = this.#initialMs;
  }
}
