import { ApiError } from "./api_error.ts";
import { ContextLengthError } from "../inference/engine.ts";
import { HubAccessError } from "../model/hub_access_error.ts";
import { HubUnreachableError } from "../model/hub_unreachable_error.ts";
import { ModelUnreachableError } from "../model/model_unreachable_error.ts";
import { UnsupportedModelError } from "../model/unsupported_model_error.ts";
import {
  ClusterUnavailableError,
  ModelNotFoundError,
  RequestFailedError,
} from "../orchestration/errors.ts";

/**
 * Maps an error from the completion service (or anywhere in a route) to the response the
 * client gets:
 *
 * - {@linkcode ApiError}: itself
 * - {@linkcode HubAccessError} (gated or private repo): 403 `hub_access_denied`, param `model`
 * - {@linkcode ModelUnreachableError} and {@linkcode HubUnreachableError} (a model that is
 *   not here and the hub does not answer): 503 `hub_unreachable`, param `model`
 * - {@linkcode ModelNotFoundError}: 404 `model_not_found`, param `model`; an unknown name
 *   also says where the known ones are listed
 * - {@linkcode UnsupportedModelError} (a model this build cannot run): 400
 *   `unsupported_model`, param `model`
 * - {@linkcode ContextLengthError}: 400 `context_length_exceeded`
 * - other `RangeError`s (parameters the API let through): 400
 * - {@linkcode ClusterUnavailableError}: 503 `cluster_unavailable`
 * - {@linkcode RequestFailedError}: 500 (the contract does not tell a
 *   timeout apart, so no 504)
 * - anything else: 500
 *
 * @param inputParam The request field holding the prompt, named by context length errors.
 */
export function toApiError(error: unknown, inputParam: string | null = null): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HubAccessError) {
    return new ApiError(403, error.message, { param: "model", code: "hub_access_denied" });
  }
  if (error instanceof ModelUnreachableError || error instanceof HubUnreachableError) {
    return new ApiError(503, error.message, { param: "model", code: "hub_unreachable" });
  }
  if (error instanceof ModelNotFoundError) {
    const message = error.unknownName
      ? `${error.message}; GET /v1/models lists the models this node knows`
      : error.message;
    return new ApiError(404, message, { param: "model", code: "model_not_found" });
  }
  if (error instanceof UnsupportedModelError) {
    return new ApiError(400, error.message, { param: "model", code: "unsupported_model" });
  }
  if (error instanceof ContextLengthError) {
    return new ApiError(400, error.message, {
      param: inputParam,
      code: "context_length_exceeded",
    });
  }
  if (error instanceof RangeError) return new ApiError(400, error.message);
  if (error instanceof ClusterUnavailableError) {
    return new ApiError(503, error.message, {
      code: "cluster_unavailable",
    });
  }
  if (error instanceof RequestFailedError) {
    return new ApiError(500, error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(500, `Internal error: ${message}`);
}
