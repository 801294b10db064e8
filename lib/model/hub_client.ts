/**
 * The few Hugging Face hub calls a node makes. Listing a revision goes through
 * `@huggingface/hub`. A file's metadata is a HEAD of its `resolve` URL that does not follow
 * the LFS redirect, as huggingface_hub does: the redirect carries the sha256 etag
 * (`X-Linked-Etag`) and size, which the storage behind it does not promise. Bytes come from
 * a plain ranged GET, since the library cannot resume one.
 *
 * @module
 */

import { HubApiError, modelInfo } from "@huggingface/hub";
import { HubAccessError } from "./hub_access_error.ts";
import { ModelNotFoundError } from "./model_not_found_error.ts";
import { hostOf, hubFetchFailure, hubHttpFailure } from "./hub_unreachable_error.ts";

/** One revision of a repository: its commit and every file in it. */
export interface RepoRevision {
  commit: string;
  files: string[];
}

/** Where and what one file of a commit is. */
export interface RemoteFile {
  /** The hub's etag without quotes: sha256 of an LFS file, git blob sha1 of another. */
  etag: string;
  size: number;
  /** The URL its bytes come from (the LFS redirect already followed). */
  url: string;
  /** `repo/path`, the name messages use (never the URL, which may carry signed queries). */
  name: string;
}

/** How to reach the hub. */
export interface HubClientOptions {
  /** Base URL, e.g. `https://huggingface.co` (see `hubEndpoint`). */
  endpoint: string;
  token?: string;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
  /**
   * Most ms a listing or a file's metadata may take before the hub counts as unreachable
   * (default 30 s). Downloads of file bytes have no such bound here.
   */
  metadataTimeoutMs?: number;
}

/** Reads repository listings, file metadata and file bytes from a Hugging Face hub. */
export class HubClient {
  readonly endpoint: string;
  #token: string | undefined;
  #fetch: typeof fetch;
  #metadataTimeoutMs: number;

  /** Creates a client; no request is made until a method is called. */
  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#token = options.token;
    this.#metadataTimeoutMs = options.metadataTimeoutMs ?? 30_000;
    const base = options.fetch ?? fetch;
    // The token goes in a header the library never sees, so any token format is accepted.
    this.#fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      try {
        return await base(input, this.#withToken(input, init));
      } catch (error) {
        if (init?.signal?.aborted && !isTimeout(init.signal.reason)) throw error;
        throw hubFetchFailure(url, error);
      }
    };
  }

  /**
   * The commit `revision` points at and the repository's files.
   * @throws {HubAccessError} for a gated or private repo the token cannot read.
   * @throws {ModelNotFoundError} when the hub has no such repo or revision.
   */
  async revision(repo: string, revision = "main"): Promise<RepoRevision> {
    try {
      const info = await modelInfo({
        name: repo,
        revision,
        hubUrl: this.endpoint,
        fetch: this.#timedFetch(),
        additionalFields: ["sha", "filePaths"],
      });
      if (typeof info.sha !== "string" || !Array.isArray(info.filePaths)) {
        throw new TypeError(`Cannot list ${repo}: the hub's answer has no sha or siblings`);
      }
      return { commit: info.sha, files: info.filePaths };
    } catch (error) {
      throw this.#explain(error, repo);
    }
  }

  /**
   * The etag, size and download URL of `path` at `commit`; null when the file is absent.
   * @throws {HubAccessError} for a gated or private repo the token cannot read.
   * @throws {ModelNotFoundError} when the hub has no such repo or revision.
   */
  async file(repo: string, commit: string, path: string): Promise<RemoteFile | null> {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    let url = `${this.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${encoded}`;
    const origin = new URL(this.endpoint).origin;
    const name = `${repo}/${path}`;
    const timed = this.#timedFetch();
    for (let hop = 0; hop < MAX_RELATIVE_REDIRECTS; hop++) {
      const response = await timed(url, {
        method: "HEAD",
        redirect: "manual",
        headers: { "Accept-Encoding": "identity" },
      });
      await response.body?.cancel();
      const location = response.headers.get("Location");
      if (response.status >= 300 && response.status < 400 && location !== null) {
        const target = new URL(location, url);
        // A redirect with the file's etag, or to another origin, is the LFS storage; a
        // plain one on the hub (a renamed repo) is followed.
        if (response.headers.has("X-Linked-Etag") || target.origin !== origin) {
          return remoteFile(response, target.href, name);
        }
        url = target.href;
        continue;
      }
      if (response.status === 404) {
        if (response.headers.get("X-Error-Code") === "EntryNotFound") return null;
        throw new ModelNotFoundError(repo, [], `the hub has no such repo or revision ${commit}`);
      }
      if (response.status === 401 || response.status === 403) {
        if (response.headers.get("X-Error-Code") === "RepoNotFound") {
          throw new ModelNotFoundError(
            repo,
            [],
            `the hub at ${hostOf(this.endpoint)} has no such repo`,
          );
        }
        throw new HubAccessError(repo, response.status, this.#token !== undefined);
      }
      if (response.status >= 500 || response.status === 429) {
        throw hubHttpFailure(url, response.status);
      }
      if (!response.ok) {
        throw new Error(`Cannot read ${name}: the hub answered HTTP ${response.status}`);
      }
      return remoteFile(response, url, name);
    }
    throw new Error(`Cannot read ${name}: more than ${MAX_RELATIVE_REDIRECTS} redirects`);
  }

  /** GETs `url` from byte `start` on (a `Range` request when `start` > 0). */
  get(url: string, start: number, signal?: AbortSignal): Promise<Response> {
    // Compressed transfer would make sizes and ranges count other bytes than the file's.
    const headers = new Headers({ "Accept-Encoding": "identity" });
    if (start > 0) headers.set("Range", `bytes=${start}-`);
    return this.#fetch(url, { headers, signal });
  }

  /** The client's fetch with the metadata timeout added to each call's own signal. */
  #timedFetch(): typeof fetch {
    return (input, init) => {
      const timeout = AbortSignal.timeout(this.#metadataTimeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      return this.#fetch(input, { ...init, signal });
    };
  }

  #withToken(input: string | URL | Request, init: RequestInit | undefined): RequestInit {
    const url = new URL(input instanceof Request ? input.url : input);
    // Never hand the token to another origin (the LFS storage behind a redirect).
    if (this.#token === undefined || url.origin !== new URL(this.endpoint).origin) {
      return init ?? {};
    }
    const headers = new Headers(init?.headers);
    headers.set("Authorization", `Bearer ${this.#token}`);
    return { ...init, headers };
  }

  #explain(error: unknown, repo: string): unknown {
    if (!(error instanceof HubApiError)) return error;
    if (error.statusCode === 401 || error.statusCode === 403) {
      return new HubAccessError(repo, error.statusCode, this.#token !== undefined);
    }
    if (error.statusCode === 404) {
      return new ModelNotFoundError(
        repo,
        [],
        `the hub at ${hostOf(this.endpoint)} has no such repo`,
      );
    }
    if (error.statusCode >= 500 || error.statusCode === 429) {
      return hubHttpFailure(this.endpoint, error.statusCode);
    }
    return new Error(`Cannot list ${repo} on the hub: it answered HTTP ${error.statusCode}`);
  }
}

const MAX_RELATIVE_REDIRECTS = 5;

function isTimeout(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === "TimeoutError";
}

function remoteFile(response: Response, url: string, name: string): RemoteFile {
  const etag = response.headers.get("X-Linked-Etag") ?? response.headers.get("ETag");
  const size = Number(
    response.headers.get("X-Linked-Size") ?? response.headers.get("Content-Length") ?? NaN,
  );
  if (etag === null || !Number.isSafeInteger(size) || size < 0) {
    throw new Error(`Cannot read ${name}: the hub's answer has no etag or size`);
  }
  return { etag: normalizeEtag(etag), size, url, name };
}

/** An etag header's value without `W/` and quotes. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}
