/**
 * Holds messages sent while their model downloads: each waits until the model's status
 * says it is ready (or failed), checked on every status update the page polls.
 * @module
 */
import { NodeApiError } from "./api_error.ts";
import { type ModelStatus, readiness } from "./model_status.ts";

interface Waiter {
  model: string;
  resolve(): void;
  reject(error: Error): void;
}

/** Waits for models to be ready, on the statuses it is given. */
export class ModelWaiter {
  #statuses = new Map<string, ModelStatus>();
  #known = false;
  #waiters = new Set<Waiter>();

  /** Takes the latest statuses and lets every waiter whose model is ready go. */
  update(statuses: readonly ModelStatus[]): void {
    this.#statuses = new Map(statuses.map((s) => [s.info.id, s]));
    this.#known = true;
    for (const waiter of [...this.#waiters]) this.#check(waiter);
  }

  /** Whether a message for `model` would wait now. */
  wouldWait(model: string): boolean {
    return this.#known && readiness(this.#statuses.get(model)).kind === "wait";
  }

  /**
   * Resolves when `model` is ready: at once when it is (or when the page knows nothing
   * about it yet, and the node will answer); rejects when its download fails or `signal`
   * aborts.
   */
  wait(model: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        model,
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal.addEventListener("abort", onAbort);
      this.#waiters.add(waiter);
      this.#check(waiter);
    });
  }

  #check(waiter: Waiter): void {
    if (!this.#known) return this.#release(waiter);
    const state = readiness(this.#statuses.get(waiter.model));
    switch (state.kind) {
      case "wait":
        return;
      case "ready":
        return this.#release(waiter);
      case "failed":
        this.#waiters.delete(waiter);
        waiter.reject(
          new NodeApiError(
            500,
            `The download of ${waiter.model} failed: ${state.error}`,
            "download_failed",
          ),
        );
    }
  }

  #release(waiter: Waiter): void {
    this.#waiters.delete(waiter);
    waiter.resolve();
  }
}
