/**
 * A local stand-in for the Hugging Face hub, serving repositories from directories with
 * the routes a node uses: the revision listing, `resolve` (HEAD and GET; LFS files redirect
 * to a storage route carrying `X-Linked-Etag`), `Range`, 401 for a gated repo without the
 * token, 404s with the hub's `X-Error-Code`. It logs every request and can cut a transfer
 * off or corrupt it once.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** A repository the fake hub serves. */
export interface FakeRepo {
  id: string;
  /** A flat directory of files. */
  dir: string;
  /** 40 hex digits; made from the id when absent. */
  commit?: string;
  /** Needs `Authorization: Bearer <token>`. */
  gated?: boolean;
}

/** One request as the hub saw it. */
export interface HubRequest {
  method: string;
  path: string;
  range: string | null;
  authorized: boolean;
}

interface RepoFile {
  bytes: Uint8Array;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

interface Repo {
  id: string;
  commit: string;
  gated: boolean;
  files: Map<string, RepoFile>;
}

/** The fake hub, listening on 127.0.0.1. */
export class FakeHub {
  /** Every request, in order. */
  readonly log: HubRequest[] = [];
  readonly token: string;
  #repos = new Map<string, Repo>();
  #server!: Deno.HttpServer<Deno.NetAddr>;
  #drops = new Map<string, number>();
  #corruptions = new Set<string>();
  #failures = new Map<string, number>();

  private constructor(token: string) {
    this.token = token;
  }

  /** Reads the repositories and starts serving. */
  static async start(repos: FakeRepo[], token = "hf_test_token"): Promise<FakeHub> {
    const hub = new FakeHub(token);
    for (const repo of repos) await hub.add(repo);
    hub.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => hub.#handle(request),
    );
    return hub;
  }

  /** Adds (or replaces) a repository. */
  async add(repo: FakeRepo): Promise<void> {
    const files = new Map<string, RepoFile>();
    for await (const entry of Deno.readDir(repo.dir)) {
      if (!entry.isFile) continue;
      const bytes = await Deno.readFile(join(repo.dir, entry.name));
      files.set(entry.name, {
        bytes,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        gitSha1: createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes)
          .digest("hex"),
        lfs: entry.name.endsWith(".safetensors"),
      });
    }
    const commit = repo.commit ??
      createHash("sha1").update(`commit ${repo.id}`).digest("hex");
    this.#repos.set(repo.id, { id: repo.id, commit, gated: repo.gated ?? false, files });
  }

  /** The base URL, for `HF_ENDPOINT`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** The commit of a repository. */
  commit(repo: string): string {
    return this.#repos.get(repo)!.commit;
  }

  /** The sha256 of a repository file. */
  sha256(repo: string, file: string): string {
    return this.#repos.get(repo)!.files.get(file)!.sha256;
  }

  /** The next transfer of `file` (any repo) ends after `bytes` bytes with a dropped connection. */
  dropOnce(file: string, bytes: number): void {
    this.#drops.set(file, bytes);
  }

  /** The next transfer of `file` (any repo) answers `status` instead. */
  failOnce(file: string, status: number): void {
    this.#failures.set(file, status);
  }

  /** The next transfer of `file` (any repo) flips a byte. */
  corruptOnce(file: string): void {
    this.#corruptions.add(file);
  }

  /** Files whose content was sent (GETs other than the one-byte probe), in order. */
  downloads(): string[] {
    return this.log
      .filter((r) => r.method === "GET" && r.path.startsWith("/_storage/"))
      .map((r) => r.path.split("/").pop()!);
  }

  /** Stops serving. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  #handle(request: Request): Response {
    const url = new URL(request.url);
    const path = decodeURIComponent(url.pathname);
    const auth = request.headers.get("Authorization");
    const authorized = auth === `Bearer ${this.token}`;
    this.log.push({
      method: request.method,
      path,
      range: request.headers.get("Range"),
      authorized,
    });

    let match = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path);
    if (match && request.method === "GET") {
      const repo = this.#access(match[1], authorized);
      if (repo instanceof Response) return repo;
      if (match[2] !== "main" && match[2] !== "HEAD" && match[2] !== repo.commit) {
        return hubError(404, "RevisionNotFound", `Invalid rev id: ${match[2]}`);
      }
      return Response.json({
        _id: `id-${repo.id}`,
        id: repo.id,
        private: false,
        gated: repo.gated ? "manual" : false,
        downloads: 0,
        likes: 0,
        lastModified: "2026-01-01T00:00:00.000Z",
        sha: repo.commit,
        siblings: [...repo.files.keys()].sort().map((rfilename) => ({ rfilename })),
      });
    }
    match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (match && (request.method === "GET" || request.method === "HEAD")) {
      const repo = this.#access(match[1], authorized);
      if (repo instanceof Response) return repo;
      if (match[2] !== "main" && match[2] !== repo.commit) {
        return hubError(404, "RevisionNotFound", `Invalid rev id: ${match[2]}`);
      }
      const file = repo.files.get(match[3]);
      if (file === undefined) return hubError(404, "EntryNotFound", `${match[3]} not found`);
      const headers = { "X-Repo-Commit": repo.commit };
      if (file.lfs) {
        return new Response(null, {
          status: 302,
          headers: {
            ...headers,
            Location: `/_storage/${repo.id}/${file.sha256}/${match[3]}`,
            "X-Linked-Etag": `"${file.sha256}"`,
            "X-Linked-Size": String(file.bytes.byteLength),
            ETag: `"${file.gitSha1}"`,
          },
        });
      }
      return this.#content(request, match[3], file, { ...headers, ETag: `"${file.gitSha1}"` });
    }
    match = /^\/_storage\/([^/]+\/[^/]+)\/([0-9a-f]{64})\/(.+)$/.exec(path);
    if (match && (request.method === "GET" || request.method === "HEAD")) {
      const repo = this.#repos.get(match[1]);
      const file = repo?.files.get(match[3]);
      if (file === undefined || file.sha256 !== match[2]) {
        return new Response(null, { status: 404 });
      }
      // Storage answers with its own etag, which is not the sha256 (as S3's is not).
      return this.#content(request, match[3], file, { ETag: `"s3-${file.sha256.slice(0, 8)}"` });
    }
    return hubError(404, "RepoNotFound", `No route ${request.method} ${path}`);
  }

  #access(id: string, authorized: boolean): Repo | Response {
    const repo = this.#repos.get(id);
    if (repo === undefined) return hubError(404, "RepoNotFound", `Repository ${id} not found`);
    if (repo.gated && !authorized) {
      return hubError(
        401,
        "GatedRepo",
        `Access to model ${id} is restricted. You must have access to it and be authenticated to access it.`,
      );
    }
    return repo;
  }

  #content(
    request: Request,
    name: string,
    file: RepoFile,
    headers: Record<string, string>,
  ): Response {
    const size = file.bytes.byteLength;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("Range") ?? "");
    let start = 0;
    let end = size - 1;
    let status = 200;
    const all: Record<string, string> = { ...headers, "Accept-Ranges": "bytes" };
    if (range) {
      start = Number(range[1]);
      end = range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
      if (start >= size) {
        return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
      }
      status = 206;
      all["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    all["Content-Length"] = String(end - start + 1);
    if (request.method === "HEAD") return new Response(null, { status, headers: all });
    const failure = this.#failures.get(name);
    if (failure !== undefined) {
      this.#failures.delete(name);
      return new Response("try again later", { status: failure });
    }
    let body = file.bytes.slice(start, end + 1);
    const probe = end - start + 1 === 1;
    if (!probe && this.#corruptions.delete(name)) {
      body = body.slice();
      body[body.length >> 1] ^= 0xff;
    }
    const drop = probe ? undefined : this.#drops.get(name);
    if (drop !== undefined) {
      this.#drops.delete(name);
      const head = body.slice(0, drop);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head);
        },
        pull(controller) {
          // Ending the body short of its Content-Length makes the server drop the connection.
          controller.close();
        },
      });
      return new Response(stream, { status, headers: all });
    }
    return new Response(body, { status, headers: all });
  }
}

function hubError(status: number, code: string, message: string): Response {
  return Response.json({ error: message }, { status, headers: { "X-Error-Code": code } });
}
