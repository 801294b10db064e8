/** Runs at most `limit` tasks at once; the rest wait in order. */
export class Limiter {
  #limit: number;
  #running = 0;
  #waiting: (() => void)[] = [];

  /** @throws {RangeError} when `limit` is not a positive integer. */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot limit parallel tasks to ${limit}: not a positive integer`);
    }
    this.#limit = limit;
  }

  /** Runs `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
