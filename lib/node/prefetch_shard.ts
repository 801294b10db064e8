import { loadModelConfig } from "../model/hf_config.ts";
import type { ModelResolver } from "../model/model_resolver.ts";
import { ClusterUnavailableError } from "../orchestration/errors.ts";
import { planRequest } from "../orchestration/plan_request.ts";
import type { ClusterView } from "../topology/topology.ts";

/** The layers a prefetch fetches: this node's share of the current plan. */
export interface PrefetchPlan {
  model: string;
  startLayer: number;
  endLayer: number;
}

/**
 * Finds this node's layers of `model` in the plan a request would get now (fetching the
 * config first when needed), then starts fetching them. Resolves once the layers are
 * known, with `done` settling when the weight files are all in place.
 * @throws {ClusterUnavailableError} when the plan gives this node no layers.
 */
export async function prefetchShard(
  resolver: ModelResolver,
  view: () => ClusterView,
  model: string,
  signal: AbortSignal,
): Promise<{ plan: PrefetchPlan; done: Promise<void> }> {
  const resolved = await resolver.resolve(model, signal);
  const config = await loadModelConfig(resolved.dir);
  const current = view();
  const mine = planRequest(current, config.numLayers)
    .find((shard) => shard.nodeId === current.selfId);
  if (mine === undefined) {
    throw new ClusterUnavailableError(`the current plan gives node ${current.selfId} no layers`);
  }
  const { startLayer, endLayer } = mine;
  const done = resolver.resolveShard(model, startLayer, endLayer, signal).then(() => {});
  return { plan: { model: resolved.id, startLayer, endLayer }, done };
}
