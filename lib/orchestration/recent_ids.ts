/**
 * A bounded set of ids that forgets the oldest first: the requests that ended lately, so
 * that their late messages are ignored instead of starting them again.
 */
export class RecentIds {
  #capacity: number;
  #ids = new Set<string>();

  /** Creates a set that keeps at most `capacity` ids. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Remembers an id (as the newest). */
  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      this.#ids.delete(this.#ids.values().next().value!);
    }
  }

  /** Whether the id is remembered. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }
}
