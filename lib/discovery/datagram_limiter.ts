/**
 * Token buckets that bound how many datagrams discovery reads, per sender and in all, so
 * a flood costs a counter increment per datagram and never a JSON parse. Pure: the
 * caller passes the time.
 */

/** Limits of a {@linkcode DatagramLimiter}. */
export interface DatagramLimits {
  /** Datagrams a second one sender may send on average. */
  perSourceRate: number;
  /** How many one sender may send at once. */
  perSourceBurst: number;
  /** Datagrams a second from all senders together. */
  totalRate: number;
  totalBurst: number;
  /** Senders remembered; the least recently seen is forgotten beyond this. */
  maxSources: number;
}

/**
 * Default limits: a node sends one announcement per interface every 2.5 s, so 10 a second
 * from one address is a flood, and 200 a second is more than a hundred honest nodes.
 */
export const DEFAULT_DATAGRAM_LIMITS: DatagramLimits = {
  perSourceRate: 10,
  perSourceBurst: 20,
  totalRate: 200,
  totalBurst: 400,
  maxSources: 1024,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Decides, per datagram, whether it may be read. */
export class DatagramLimiter {
  #limits: DatagramLimits;
  #total: Bucket;
  // A Map iterates in insertion order; re-inserting on use keeps the least recent first.
  #sources = new Map<string, Bucket>();

  /** Creates a limiter; `now` is the time in ms of the first datagram or earlier. */
  constructor(limits: DatagramLimits = DEFAULT_DATAGRAM_LIMITS, now = 0) {
    this.#limits = limits;
    this.#total = { tokens: limits.totalBurst, at: now };
  }

  /** Takes a token for a datagram from `source` at `now` (ms); false when over a limit. */
  allow(source: string, now: number): boolean {
    const limits = this.#limits;
    let bucket = this.#sources.get(source);
    if (bucket === undefined) {
      bucket = { tokens: limits.perSourceBurst, at: now };
      if (this.#sources.size >= limits.maxSources) {
        this.#sources.delete(this.#sources.keys().next().value!);
      }
    } else {
      this.#sources.delete(source);
    }
    this.#sources.set(source, bucket);
    refill(bucket, now, limits.perSourceRate, limits.perSourceBurst);
    refill(this.#total, now, limits.totalRate, limits.totalBurst);
    if (bucket.tokens < 1 || this.#total.tokens < 1) return false;
    bucket.tokens -= 1;
    this.#total.tokens -= 1;
    return true;
  }
}

function refill(bucket: Bucket, now: number, rate: number, burst: number): void {
  const elapsed = Math.max(0, now - bucket.at) / 1000;
  bucket.tokens = Math.min(burst, bucket.tokens + elapsed * rate);
  bucket.at = Math.max(bucket.at, now);
}
