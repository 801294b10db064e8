import type { ModelLayers } from "./default_model.ts";

/** How a {@linkcode ModelLayersCache} looks names up and how long it keeps answers. */
export interface ModelLayersCacheOptions {
  /** Finds a model's layer count; null when it is not known here. */
  lookup(name: string): Promise<ModelLayers | null>;
  /** How long a found layer count is kept, in ms (default one minute). */
  foundMs?: number;
  /** How long "not known" is kept, in ms (default 2 s: a download may make it known). */
  missingMs?: number;
  /** Most names kept; the oldest go first (default 256). */
  maxEntries?: number;
  /** A clock in ms (tests pass a fake one). */
  now?: () => number;
}

interface Entry {
  layers: Promise<ModelLayers | null>;
  /** Infinity while the lookup runs. */
  expires: number;
}

/**
 * Layer counts by model name, kept a while so that a page polling `/v1/topology?model=`
 * does not read config files every time. Concurrent asks for one name share one lookup; a
 * lookup that fails is not kept (its error goes to the callers that shared it).
 */
export class ModelLayersCache {
  #lookup: (name: string) => Promise<ModelLayers | null>;
  #foundMs: number;
  #missingMs: number;
  #maxEntries: number;
  #now: () => number;
  #entries = new Map<string, Entry>();

  /** Creates an empty cache. */
  constructor(options: ModelLayersCacheOptions) {
    this.#lookup = options.lookup;
    this.#foundMs = options.foundMs ?? 60_000;
    this.#missingMs = options.missingMs ?? 2_000;
    this.#maxEntries = options.maxEntries ?? 256;
    this.#now = options.now ?? Date.now;
  }

  /** The layer count of `name`, from the cache while it is fresh. */
  get(name: string): Promise<ModelLayers | null> {
    const cached = this.#entries.get(name);
    if (cached !== undefined && cached.expires > this.#now()) return cached.layers;
    this.#entries.delete(name);
    const entry: Entry = { layers: Promise.resolve(null), expires: Infinity };
    entry.layers = this.#lookup(name).then((layers) => {
      entry.expires = this.#now() + (layers === null ? this.#missingMs : this.#foundMs);
      return layers;
    }, (error) => {
      if (this.#entries.get(name) === entry) this.#entries.delete(name);
      throw error;
    });
    this.#entries.set(name, entry);
    this.#evict();
    return entry.layers;
  }

  #evict(): void {
    if (this.#entries.size <= this.#maxEntries) return;
    const now = this.#now();
    for (const [name, entry] of this.#entries) {
      if (entry.expires <= now) this.#entries.delete(name);
    }
    for (const name of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(name);
    }
  }
}
