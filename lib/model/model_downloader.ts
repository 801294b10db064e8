/**
 * Fetches the files a node needs of a hub repository into the Hugging Face hub cache:
 * the config and tokenizer files, and the weight files of one shard.
 *
 * @module
 */

import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { downloadBlob } from "./blob_download.ts";
import { type DownloadEvent, DownloadTracker } from "./download_progress.ts";
import { loadModelConfig } from "./hf_config.ts";
import {
  blobPath,
  isFile,
  linkSnapshotFile,
  lockBlob,
  snapshotDir,
  writeRef,
} from "./hub_cache.ts";
import type { HubClient, RemoteFile } from "./hub_client.ts";
import { Limiter } from "./_limiter.ts";
import { SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE } from "./safetensors_index.ts";
import { type LayerRange, localShardWeightFiles, MODEL_META_FILES } from "./shard_files.ts";
import { ModelNotFoundError } from "./model_not_found_error.ts";

/** What a downloader needs. */
export interface ModelDownloaderOptions {
  client: HubClient;
  /** The hub cache directory files go to. */
  hubCache: string;
  /** This node's id, in progress events. */
  nodeId: string;
  /** `--max-parallel-downloads`: most files fetched at once (default 8). */
  maxParallel?: number;
  /** Receives progress, at most a few times a second per download. */
  onProgress?(event: DownloadEvent): void;
  logger?: Logger;
  /** Attempts per file (default 5). */
  attempts?: number;
  /** First retry delay in ms (default 500). */
  backoffMs?: number;
}

/** Downloads repository files into the hub cache, a limited number at a time. */
export class ModelDownloader {
  readonly hubCache: string;
  #options: ModelDownloaderOptions;
  #limiter: Limiter;
  /** Blob downloads under way, by blob path, so that two callers share one. */
  #inFlight = new Map<string, Promise<void>>();

  /** Creates a downloader; nothing is fetched until `download` is called. */
  constructor(options: ModelDownloaderOptions) {
    this.hubCache = options.hubCache;
    this.#options = options;
    this.#limiter = new Limiter(options.maxParallel ?? 8);
  }

  /**
   * Fetches the config and tokenizer files of `repo`'s main revision and, when `range` is
   * given, the weight files holding those layers; files already in the cache are not
   * fetched again. Resolves to the snapshot directory.
   * @throws {HubAccessError} for a gated or private repo the token cannot read.
   * @throws {ModelNotFoundError} when the hub has no such repo, or it has no config.json.
   */
  async download(
    repo: string,
    model: string,
    range: LayerRange | null,
    signal?: AbortSignal,
  ): Promise<string> {
    const { client, hubCache } = this.#options;
    const tracker = new DownloadTracker(
      { nodeId: this.#options.nodeId, model, repo },
      (event) => this.#options.onProgress?.(event),
    );
    try {
      const revision = await client.revision(repo);
      const present = new Set(revision.files);
      if (!present.has("config.json")) {
        throw new ModelNotFoundError(repo, [], "the repo has no config.json");
      }
      const meta = MODEL_META_FILES.filter((file) => present.has(file));
      if (range !== null && present.has(SAFETENSORS_INDEX_FILE)) meta.push(SAFETENSORS_INDEX_FILE);
      const dir = snapshotDir(hubCache, repo, revision.commit);
      await this.#fetchAll(repo, revision.commit, meta, tracker, signal);
      await writeRef(hubCache, repo, revision.commit);
      if (range !== null) {
        if (!present.has(SAFETENSORS_INDEX_FILE) && !present.has(SAFETENSORS_SINGLE_FILE)) {
          throw new ModelNotFoundError(repo, [], "the repo has no safetensors weights");
        }
        const config = await loadModelConfig(dir);
        const weights = await localShardWeightFiles(dir, config, range);
        const absent = weights.filter((file) => !present.has(file));
        if (absent.length > 0) {
          throw new ModelNotFoundError(repo, [], `the repo lacks ${absent.join(", ")}`);
        }
        await this.#fetchAll(repo, revision.commit, weights, tracker, signal);
      }
      tracker.finish();
      return dir;
    } catch (error) {
      tracker.finish(error as Error);
      throw error;
    }
  }

  async #fetchAll(
    repo: string,
    commit: string,
    files: readonly string[],
    tracker: DownloadTracker,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const dir = snapshotDir(this.hubCache, repo, commit);
    const missing: string[] = [];
    for (const file of files) {
      if (!(await isFile(join(dir, file)))) missing.push(file);
    }
    // Every file's size first, so the totals (and the ETA) hold from the first event.
    const remotes = await settleAll(missing.map((file) =>
      this.#limiter.run(async () => {
        const remote = await this.#options.client.file(repo, commit, file);
        if (remote === null) {
          throw new ModelNotFoundError(repo, [], `the hub has no ${file} at ${commit}`);
        }
        tracker.add(file, remote.size);
        return remote;
      })
    ));
    await settleAll(missing.map((file, i) =>
      this.#limiter.run(async () => {
        const remote = remotes[i];
        await this.#blob(repo, remote, (bytes) => tracker.update(file, bytes), signal);
        await linkSnapshotFile(this.hubCache, repo, commit, file, remote.etag);
        tracker.complete(file);
        this.#options.logger?.debug(`Downloaded ${repo}/${file} (${remote.size} bytes)`);
      })
    ));
  }

  #blob(
    repo: string,
    remote: RemoteFile,
    onBytes: (bytes: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const path = blobPath(this.hubCache, repo, remote.etag);
    const running = this.#inFlight.get(path);
    if (running) return running;
    const promise = (async () => {
      // Another process (a second node, or a Python tool) may be writing the same blob.
      const lock = await lockBlob(this.hubCache, repo, remote.etag);
      try {
        await downloadBlob({
          client: this.#options.client,
          remote,
          blobPath: path,
          onBytes,
          attempts: this.#options.attempts,
          backoffMs: this.#options.backoffMs,
          signal,
        });
      } finally {
        lock.close();
      }
    })().finally(() => this.#inFlight.delete(path));
    this.#inFlight.set(path, promise);
    return promise;
  }
}

/** Waits for every promise, then throws the first failure (so none is left running). */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
