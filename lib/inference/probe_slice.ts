/**
 * Which layers of a shard the provider probe times, and how their times stand for the
 * whole shard's.
 *
 * A shard's layers all have one shape, so one step of it costs a fixed part (the session
 * call, moving the input in and the output out) plus its layer count times one layer's
 * cost; providers differ in both parts (a GPU has the larger fixed part and the cheaper
 * layer). Timing the same step over one layer and over up to {@linkcode PROBE_LAYERS}
 * layers gives both parts per provider, hence each provider's time for all of the shard's
 * layers, which is what the ranking compares. A shard of at most {@linkcode PROBE_LAYERS}
 * layers without a costly end is timed whole: no projection.
 *
 * The ends. The embedding is a gather, one table row per token: no time worth measuring.
 * The LM head is one more projection, as much decode work as its weights are layers' worth
 * (decode reads every weight once, with the same 4-bit kernel as the layers'), and next to
 * nothing in a prompt (it runs on the last position only). Converting either table holds
 * it whole in float32: llama-3.2-1b's 128256 × 2048 takes 1 GB, more than the 1.2 × weights
 * + 300 MB a whole 1B model may hold while serving. So a slice takes the first or last
 * layer of the model only where its table is cheap (no larger than one layer), or where
 * the shard has no other layer to time; otherwise the head is counted as its weights'
 * worth of layers in decode. Only one slice is loaded at a time, and slices come from the
 * shard's own layers (the only ones a node of a cluster has downloaded), so the probe never
 * holds more than a part of the shard it chooses for.
 * @module
 */

/** Most layers of the shard a probe loads at once. */
export const PROBE_LAYERS = 4;

/** A contiguous range of layers (inclusive). */
export interface LayerRange {
  startLayer: number;
  endLayer: number;
}

/** What the slices depend on in the model. */
export interface ModelShape {
  numLayers: number;
  /** Weights of one layer's projections. */
  layerParameters: number;
  /** Weights of the embedding table, and of the LM head (vocab × hidden). */
  tableParameters: number;
}

/** The slices to time for a shard. */
export interface ProbeSlices {
  /** Layers timed and checked against the CPU: the whole shard, or up to PROBE_LAYERS of it. */
  large: LayerRange;
  /** One layer of `large`, timed for the fixed part; null when `large` is the whole shard. */
  small: LayerRange | null;
  /** The shard's layer count. */
  layers: number;
  /** Layers' worth of decode work the shard's LM head adds when no slice holds it, else 0. */
  headLayers: number;
}

/**
 * The slices of the shard `startLayer..endLayer` to time, holding at most `maxLayers`.
 * @throws {RangeError} for a range outside the model or a `maxLayers` below 2.
 */
export function probeSlices(
  startLayer: number,
  endLayer: number,
  model: ModelShape,
  maxLayers: number = PROBE_LAYERS,
): ProbeSlices {
  if (!Number.isInteger(maxLayers) || maxLayers < 2) {
    throw new RangeError(`Cannot choose probe layers: at most ${maxLayers} is below 2`);
  }
  const layers = endLayer - startLayer + 1;
  if (
    !Number.isInteger(startLayer) || !Number.isInteger(endLayer) || startLayer < 0 ||
    layers < 1 || endLayer >= model.numLayers
  ) {
    throw new RangeError(
      `Cannot choose probe layers: ${startLayer}..${endLayer} is not a range within 0..${
        model.numLayers - 1
      }`,
    );
  }
  const cheap = model.tableParameters <= model.layerParameters;
  const holdsHead = endLayer === model.numLayers - 1;
  const first = startLayer === 0 && !cheap ? 1 : startLayer;
  const last = holdsHead && !cheap ? endLayer - 1 : endLayer;
  // With fewer than two layers between costly ends, time the ends too.
  const [from, to] = last - first >= 1 ? [first, last] : [startLayer, endLayer];
  if (from === startLayer && to === endLayer && layers <= maxLayers) {
    return { large: { startLayer, endLayer }, small: null, layers, headLayers: 0 };
  }
  return {
    large: { startLayer: Math.max(from, to - maxLayers + 1), endLayer: to },
    small: { startLayer: to, endLayer: to },
    layers,
    headLayers: holdsHead && to !== endLayer ? model.tableParameters / model.layerParameters : 0,
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
