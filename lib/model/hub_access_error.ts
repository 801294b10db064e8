import { ModelNotFoundError } from "./model_not_found_error.ts";

/**
 * The hub refused a repository: gated or private without a token, or a token without
 * access. A kind of model-not-found (the model cannot be had here), which callers may catch
 * to tell the user what to set.
 */
export class HubAccessError extends ModelNotFoundError {
  /** The repository refused. */
  readonly repo: string;
  /** The HTTP status the hub answered (401 or 403). */
  readonly status: number;

  /** Builds the error; the message says whether a token was sent. */
  constructor(repo: string, status: number, hadToken: boolean) {
    super(
      repo,
      [],
      hadToken
        ? `the hub answered ${status}: the token has no access to this gated or private repo (accept its terms on the hub's page, or use a token that can read it)`
        : `the hub answered ${status}: the repo is gated or private (or does not exist) and no token is set (set HF_TOKEN or write the token to $HF_HOME/token)`,
    );
    this.name = "HubAccessError";
    this.repo = repo;
    this.status = status;
  }
}
