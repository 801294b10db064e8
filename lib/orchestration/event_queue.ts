/**
 * An unbounded queue that one consumer awaits: `push` never blocks, `next` resolves with
 * the oldest item as soon as there is one.
 */
export class EventQueue<T> {
  #items: T[] = [];
  #waiter: ((item: T) => void) | null = null;

  /** Adds an item, handing it straight to a waiting consumer. */
  push(item: T): void {
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter(item);
    } else {
      this.#items.push(item);
    }
  }

  /** The oldest item, waiting for one when the queue is empty. */
  next(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#waiter !== null) throw new TypeError("Cannot wait twice on an event queue");
    return new Promise((resolve) => this.#waiter = resolve);
  }
}
