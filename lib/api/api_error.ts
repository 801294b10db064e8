import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error response body in OpenAI's shape. */
export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error that renders itself as an OpenAI-shaped JSON error response. */
export class ApiError extends Error {
  /** HTTP status of the response. */
  readonly status: ContentfulStatusCode;
  /** OpenAI error type, e.g. "invalid_request_error". */
  readonly type: string;
  /** The request field at fault, if any. */
  readonly param: string | null;
  /** A machine-readable code, if any. */
  readonly code: string | null;

  /** Creates an error for the given status and message. */
  constructor(
    status: ContentfulStatusCode,
    message: string,
    options: { type?: string; param?: string | null; code?: string | null } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = options.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }

  /** The error as OpenAI's body: `{"error": {"message", "type", "param", "code"}}`. */
  toBody(): ApiErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }

  /** Renders the error as a JSON response with its status. */
  toResponse(c: Context): Response {
    return c.json(this.toBody(), this.status);
  }
}
