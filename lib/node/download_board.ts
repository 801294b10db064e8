import { type DownloadEvent, parseDownloadEvent } from "../model/download_progress.ts";

/**
 * The latest download progress of every node, by node and model: this node's own events
 * (which listeners, such as the broadcast to peers and the terminal, receive) and those
 * peers send as `status` messages.
 */
export class DownloadBoard {
  #latest = new Map<string, DownloadEvent>();
  #listeners = new Set<(event: DownloadEvent) => void>();

  /** Records an event of this node and hands it to every listener. */
  publish(event: DownloadEvent): void {
    this.#record(event);
    for (const listener of [...this.#listeners]) listener(event);
  }

  /**
   * Records a peer's status JSON when it is a download event (the node id is the sender's,
   * whatever the JSON says); returns whether it was one.
   */
  fromPeer(json: string, from: string): boolean {
    const event = parseDownloadEvent(json);
    if (event === null) return false;
    this.#record({ ...event, nodeId: from });
    return true;
  }

  /** Calls `listener` with each event of this node; returns the unsubscribe function. */
  subscribe(listener: (event: DownloadEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The latest event of one node for one model, if any. */
  latest(nodeId: string, model: string): DownloadEvent | undefined {
    return this.#latest.get(`${nodeId}\n${model}`);
  }

  /** The latest event of every node and model, by node id then model. */
  snapshot(): DownloadEvent[] {
    return [...this.#latest.values()].sort((a, b) =>
      a.nodeId === b.nodeId ? compare(a.model, b.model) : compare(a.nodeId, b.nodeId)
    );
  }

  #record(event: DownloadEvent): void {
    this.#latest.set(`${event.nodeId}\n${event.model}`, event);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
