import { parseStatusObject } from "../protocol/status_json.ts";

/** A node's report that it started or stopped running shard steps: a `status` message. */
export interface ActivityEvent {
  event: "activity";
  computing: boolean;
}

/** How long after its last step a node still counts as computing, in ms. */
export const COMPUTING_WINDOW_MS = 400;

/**
 * Which nodes are running shard steps now: this node from its worker's last step, peers
 * from the `activity` events they send when that changes (checked on every `tick`).
 */
export class ActivityBoard {
  #lastStepAt: () => number;
  #broadcast: (json: string) => void;
  #computing = false;
  #peers = new Set<string>();

  /** `lastStepAt` is when this node last ran a step (ms, `Date.now()` clock). */
  constructor(lastStepAt: () => number, broadcast: (json: string) => void) {
    this.#lastStepAt = lastStepAt;
    this.#broadcast = broadcast;
  }

  /** Whether this node computes now; tells the peers when that changed. */
  tick(now = Date.now()): void {
    const computing = now - this.#lastStepAt() < COMPUTING_WINDOW_MS;
    if (computing === this.#computing) return;
    this.#computing = computing;
    const event: ActivityEvent = { event: "activity", computing };
    this.#broadcast(JSON.stringify(event));
  }

  /** A peer connected: it learns this node's state. */
  current(): string {
    return JSON.stringify({ event: "activity", computing: this.#computing });
  }

  /** Records a peer's activity event; returns whether the JSON was one. */
  fromPeer(json: string, from: string): boolean {
    const value = parseStatusObject(json);
    if (value?.event !== "activity") return false;
    if (value.computing === true) this.#peers.add(from);
    else if (value.computing === false) this.#peers.delete(from);
    return true;
  }

  /** A peer left. */
  forget(nodeId: string): void {
    this.#peers.delete(nodeId);
  }

  /** The ids of the nodes computing now (this one as `selfId`). */
  computing(selfId: string): string[] {
    return [...(this.#computing ? [selfId] : []), ...this.#peers];
  }
}
