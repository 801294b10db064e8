/**
 * Which layers of a shard the provider probe times, and how their times stand for the
 * whole shard's.
 *
 * A shard's layers all have one shape, so one step of it costs a fixed part (the session
 * call, moving the input in and the output out, and the LM head when the shard holds the
 * last layer) plus its layer count times one layer's cost; a provider differs from another
 * in both parts (a GPU has the larger fixed part and the cheaper layer). Timing the same
 * step over the shard's last layer alone and over its last {@linkcode PROBE_LAYERS} gives
 * both parts, per provider, and so each provider's time for every layer of the shard,
 * which is what the ranking compares. A shard of at most {@linkcode PROBE_LAYERS} layers is
 * timed whole: no projection.
 *
 * Both slices end at the shard's last layer, so the real LM head (the largest single
 * matrix, and as much work as several layers) is in every timed step of a last shard. The
 * embedding is in a slice only when the slice is the whole shard: it is one table row per
 * token, no time worth measuring, and its table would be memory spent on nothing. A slice
 * holds at most {@linkcode PROBE_LAYERS} of the shard's layers and only one slice is loaded
 * at a time, so the probe never holds more than a part of the shard it is choosing for.
 * @module
 */

/** Most layers of the shard a probe loads at once. */
export const PROBE_LAYERS = 4;

/** A contiguous range of layers (inclusive). */
export interface LayerRange {
  startLayer: number;
  endLayer: number;
}

/** The slices to time for a shard. */
export interface ProbeSlices {
  /** Layers timed and checked against the CPU: the whole shard, or its last layers. */
  large: LayerRange;
  /** The shard's last layer alone, when `large` is not the whole shard; else null. */
  small: LayerRange | null;
  /** The shard's layer count, which times are projected to. */
  layers: number;
}

/**
 * The slices of the shard `startLayer..endLayer` to time, holding at most `maxLayers`.
 * @throws {RangeError} for an empty range or a `maxLayers` below 2.
 */
export function probeSlices(
  startLayer: number,
  endLayer: number,
  maxLayers: number = PROBE_LAYERS,
): ProbeSlices {
  if (!Number.isInteger(maxLayers) || maxLayers < 2) {
    throw new RangeError(`Cannot choose probe layers: at most ${maxLayers} is below 2`);
  }
  const layers = endLayer - startLayer + 1;
  if (!Number.isInteger(startLayer) || !Number.isInteger(endLayer) || layers < 1) {
    throw new RangeError(
      `Cannot choose probe layers: ${startLayer}..${endLayer} is not a range of layers`,
    );
  }
  if (layers <= maxLayers) return { large: { startLayer, endLayer }, small: null, layers };
  return {
    large: { startLayer: endLayer - maxLayers + 1, endLayer },
    small: { startLayer: endLayer, endLayer },
    layers,
  };
}

/** A time measured over a slice of `layers` layers. */
export interface SliceTime {
  layers: number;
  ms: number;
}

/**
 * The time of the same step over `layers` layers, from the times over the large slice and
 * the one-layer slice (none: the large slice is the shard). A layer's cost is the
 * difference over the layers between them, never below zero: a busy machine can make the
 * small slice the slower one.
 */
export function projectMs(large: SliceTime, small: SliceTime | null, layers: number): number {
  if (small === null || large.layers === small.layers) return large.ms;
  const perLayer = Math.max(0, (large.ms - small.ms) / (large.layers - small.layers));
  return large.ms + (layers - large.layers) * perLayer;
}
