import type { KeyValueStorage } from "../../web/src/lib/history_store.ts";

/** A Web Storage stand-in over a Map; `quota` (in characters) makes it refuse when full. */
export class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();
  #quota: number;

  constructor(quota = Infinity) {
    this.#quota = quota;
  }

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    let used = value.length;
    for (const [k, v] of this.items) if (k !== key) used += v.length;
    if (used > this.#quota) {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    }
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }
}
