import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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

  /** Renders the error as `{"error": {"message", "type", "param", "code"}}`. */
  toResponse(c: Context): Response {
    return c.json(
      { error: { message: this.message, type: this.type, param: this.param, code: this.code } },
      this.status,
    );
  }
}
