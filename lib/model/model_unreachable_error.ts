import { HubUnreachableError } from "./hub_unreachable_error.ts";

/**
 * A model this node could run is not here and cannot be fetched: the hub did not answer.
 * Not a "model not found": the name is fine, the network is not. The message says what the
 * model is, why the hub could not be reached, and how to run it without the hub.
 */
export class ModelUnreachableError extends Error {
  /** The model as resolved (registry id or hub repo id). */
  readonly model: string;
  /** The hub failure behind it. */
  readonly hub: HubUnreachableError;

  /** Builds the error for `model` (a registry model when `known`, else a hub repo id). */
  constructor(model: string, repo: string, known: boolean, hub: HubUnreachableError) {
    const what = known
      ? `Model ${JSON.stringify(model)} is known (${repo}) but not downloaded on this node`
      : `Model ${JSON.stringify(model)} is not on this node`;
    super(
      `${what}, and the hub at ${hub.host} could not be reached to fetch it: ${hub.detail}. ${WITHOUT_THE_HUB}`,
      { cause: hub },
    );
    this.name = "ModelUnreachableError";
    this.model = model;
    this.hub = hub;
  }
}

/** What a user can do when the hub is out of reach. */
const WITHOUT_THE_HUB = "To run it without the hub: copy the model into the Hugging Face " +
  "cache or a --models-seed-dir folder (then --offline stops asking the hub), set HF_ENDPOINT " +
  "to a mirror you can reach, or name a local model directory as the model";

/** The hub failure in `error`'s cause chain, if any. */
export function findHubFailure(error: unknown): HubUnreachableError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof HubUnreachableError) return current;
    current = current.cause;
  }
  return null;
}
