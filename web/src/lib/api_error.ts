/**
 * Errors from the node's API as a person should read them: a short title, the node's own
 * message, and what to do when there is something to do.
 * @module
 */

/** An API failure the page shows in the conversation or beside the control that failed. */
export class NodeApiError extends Error {
  /** HTTP status; 0 when the node could not be reached. */
  readonly status: number;
  /** OpenAI's error code, e.g. `model_not_found`. */
  readonly code: string | null;
  /** A short heading: "Model not found". */
  readonly title: string;

  /** Creates an error from a status, the node's message and its code. */
  constructor(status: number, message: string, code: string | null = null) {
    super(message);
    this.name = "NodeApiError";
    this.status = status;
    this.code = code;
    this.title = titleOf(status, code);
  }
}

const TITLES_BY_CODE: Readonly<Record<string, string>> = {
  model_not_found: "Model not found",
  context_length_exceeded: "The conversation is too long for this model",
  download_failed: "The model could not be downloaded",
  stream_cut: "The reply was cut off",
  stream_error: "The request failed on the cluster",
  hub_access_denied: "The model's files are not accessible",
  hub_unreachable: "The model could not be fetched",
  unsupported_model: "This build cannot run the model",
  cluster_unavailable: "The cluster cannot serve this now",
  invalid_api_key: "API key needed",
};

function titleOf(status: number, code: string | null): string {
  if (code !== null && Object.hasOwn(TITLES_BY_CODE, code)) return TITLES_BY_CODE[code];
  if (status === 0) return "Cannot reach the node";
  if (status === 404) return "Not found";
  if (status === 401) return "API key needed";
  if (status === 403) return "Refused by the node";
  if (status === 413) return "Message too large";
  if (status === 503) return "The cluster cannot serve this now";
  if (status >= 500) return "The node failed";
  return "Request refused";
}

/**
 * Codes of failures that are about getting a model's files: another try later, or another
 * model, is what a person can do about them.
 */
const MODEL_FETCH_CODES: ReadonlySet<string> = new Set([
  "hub_unreachable",
  "download_failed",
  "hub_access_denied",
]);

/** Whether an error code says a model's files could not be had. */
export function isModelFetchFailure(code: string | null | undefined): boolean {
  return typeof code === "string" && MODEL_FETCH_CODES.has(code);
}

/**
 * Reads an error response into a {@linkcode NodeApiError}: OpenAI's
 * `{"error": {"message", "code"}}` when the body has it, else the status text.
 */
export async function errorFromResponse(response: Response): Promise<NodeApiError> {
  const text = await response.text().catch(() => "");
  let message = `${response.status} ${response.statusText}`.trim();
  let code: string | null = null;
  try {
    const body = JSON.parse(text);
    if (typeof body?.error?.message === "string") message = body.error.message;
    if (typeof body?.error?.code === "string") code = body.error.code;
  } catch {
    if (text.trim() !== "") message = text.trim().slice(0, 300);
  }
  return new NodeApiError(response.status, message, code);
}

/** The error for a fetch that never got an answer (node down, network gone). */
export function unreachable(base: string, error: unknown): NodeApiError {
  const why = error instanceof Error ? error.message : String(error);
  return new NodeApiError(
    0,
    `No answer from the node at ${base} (${why}). Is it still running, and is this machine still on its network?`,
  );
}
