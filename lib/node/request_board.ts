import { parseRequestProgress, type RequestProgress } from "../orchestration/request_progress.ts";
import { parseStatusObject } from "../protocol/status_json.ts";

/** Requests kept for the view; older ones are forgotten. */
const KEEP = 12;

/**
 * The latest progress of the recent requests of the ring: this node's own (as origin),
 * which listeners receive, and those the origins of other requests send.
 */
export class RequestBoard {
  #latest = new Map<string, RequestProgress>();
  #listeners = new Set<(progress: RequestProgress) => void>();

  /** Records progress of a request this node is the origin of, and tells every listener. */
  publish(progress: RequestProgress): void {
    this.#record(progress);
    for (const listener of [...this.#listeners]) listener(progress);
  }

  /**
   * Records a peer's status JSON when it is request progress (the origin is the sender,
   * whatever the JSON says); returns whether it was such an event.
   */
  fromPeer(json: string, from: string): boolean {
    if (parseStatusObject(json)?.event !== "request") return false;
    // A malformed event is dropped here: no other part of the node reads request events.
    const progress = parseRequestProgress(json);
    if (progress !== null) this.#record({ ...progress, origin: from });
    return true;
  }

  /** Calls `listener` with each progress event of this node; returns the unsubscribe function. */
  subscribe(listener: (progress: RequestProgress) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A node left: its running requests are shown as failed (their origin cannot say). */
  nodeLeft(nodeId: string): void {
    for (const [key, progress] of this.#latest) {
      if (progress.state === "running" && progress.origin === nodeId) {
        this.#latest.set(key, { ...progress, state: "failed", error: `${nodeId} left` });
      }
    }
  }

  /** The recent requests, newest first. */
  recent(): RequestProgress[] {
    return [...this.#latest.values()].sort((a, b) => b.startedAt - a.startedAt);
  }

  #record(progress: RequestProgress): void {
    const key = `${progress.origin}\n${progress.requestId}`;
    this.#latest.delete(key);
    this.#latest.set(key, progress);
    while (this.#latest.size > KEEP) {
      const oldest = this.recent().at(-1)!;
      this.#latest.delete(`${oldest.origin}\n${oldest.requestId}`);
    }
  }
}
