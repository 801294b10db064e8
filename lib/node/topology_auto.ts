/**
 * The `engine.auto` entry of `/v1/topology`: a wire type with no imports, so the web page's
 * client shares it (its type check has no Deno namespace).
 * @module
 */

/** What `--execution-provider auto` measured for a node's shard, as `/v1/topology` shows it. */
export interface TopologyAuto {
  /** The provider chosen, and its dtype. */
  chosen: string;
  dtype: string;
  /** Whether the choice was kept from an earlier start (no probe at this load). */
  cached: boolean;
  /** When the candidates were measured, ms since the epoch. */
  measured_at: number;
  /** The layers checked and timed, and whether the figures are projected to the shard. */
  probe_layers: { start_layer: number; end_layer: number };
  projected: boolean;
  /** Every candidate in the order tried: its speed over the shard, or why it is out. */
  candidates: {
    provider: string;
    dtype: string;
    decode_tokens_per_second: number | null;
    prefill_tokens_per_second: number | null;
    out: string | null;
  }[];
}
