export { ModelNotFoundError } from "../model/model_not_found_error.ts";

/** No set of nodes can serve the request now (peers missing, or none holds the model). */
export class ClusterUnavailableError extends Error {
  /** Builds the error with the reason. */
  constructor(message: string) {
    super(message);
    this.name = "ClusterUnavailableError";
  }
}

/** A started request failed on some node, timed out, or lost a node. */
export class RequestFailedError extends Error {
  /** The node the failure came from, when known. */
  readonly nodeId: string | null;

  /** Builds the error. */
  constructor(message: string, nodeId: string | null = null) {
    super(message);
    this.name = "RequestFailedError";
    this.nodeId = nodeId;
  }
}
