import { join, resolve } from "node:path";
import { editDistance } from "../cli/_suggest.ts";
import { findModelCard, MODEL_CARDS, type ModelCard } from "./registry.ts";
import { findSnapshot, isFile, isModelDir, repoCacheBytes, repoCacheFolder } from "./hub_cache.ts";
import { ModelNotFoundError } from "./model_not_found_error.ts";
import { findHubFailure, ModelUnreachableError } from "./model_unreachable_error.ts";
import { loadModelConfig } from "./hf_config.ts";
import { UnsupportedModelError } from "./unsupported_model_error.ts";
import type { ModelDownloader } from "./model_downloader.ts";
import { type LayerRange, localShardWeightFiles, REQUIRED_META_FILES } from "./shard_files.ts";

/** A model name resolved to files on this node. */
export interface ResolvedModel {
  /** The canonical name every node resolves: registry id, hub repo id or absolute directory. */
  id: string;
  /** Human-readable name. */
  displayName: string;
  /** The local directory with config.json, tokenizer and weights. */
  dir: string;
}

/** Where a node looks for model files. */
export interface ModelResolverOptions {
  /** The Hugging Face hub cache (see `hubCacheDir`). */
  hubCache: string;
  /** `--models-seed-dir`: models placed by hand, as `<dir>/<registry id>` or hub cache folders. */
  seedDir?: string;
  /** Fetches what is missing from the hub; without it only local files are used. */
  downloader?: ModelDownloader;
  /** `--offline` or `HF_HUB_OFFLINE`: never download, even with a downloader. */
  offline?: boolean;
}

/** A model known by name, and whether its files are on this node. */
export interface KnownModel {
  id: string;
  displayName: string;
  availableLocally: boolean;
  /**
   * Bytes of the model's hub cache folder, what `remove` frees; null without one (a local
   * directory or seed-dir copy, which `remove` never deletes, or a model not here).
   */
  localBytes: number | null;
}

/** A name resolved to what it is, before any file is looked for. */
interface NamedModel {
  id: string;
  displayName: string;
  /** The hub repo; null for a local directory. */
  repo: string | null;
  /** The registry id, to look for `<seed dir>/<id>`. */
  cardId: string | null;
}

/**
 * Finds a model's files on this node from a registry id, a Hugging Face repo id
 * (`org/name`, looked up in the hub cache layout and the seed dir) or a local directory.
 * With a downloader (and not offline) it fetches what is missing: `resolve` the config and
 * tokenizer files, `resolveShard` also the weight files of a layer range. Local files that
 * suffice are used without any request.
 */
export class ModelResolver {
  #options: ModelResolverOptions;

  /** Creates a resolver over the given places. */
  constructor(options: ModelResolverOptions) {
    this.#options = options;
  }

  /**
   * Resolves a model name to a directory with its config and tokenizer, downloading them
   * when they are missing and a downloader is set.
   * @throws {ModelNotFoundError} for a name that is neither known nor a model directory,
   * or a model whose files are not on this node and cannot be downloaded.
   * @throws {HubAccessError} for a gated repo the token cannot read.
   */
  resolve(name: string, signal?: AbortSignal): Promise<ResolvedModel> {
    return this.#resolve(name, null, signal);
  }

  /**
   * Resolves a model name to a directory holding, besides config and tokenizer, the weight
   * files of layers `startLayer..endLayer` (inclusive), downloading only what is missing.
   * @throws {ModelNotFoundError} as `resolve`, or naming the files missing offline.
   */
  resolveShard(
    name: string,
    startLayer: number,
    endLayer: number,
    signal?: AbortSignal,
  ): Promise<ResolvedModel> {
    return this.#resolve(name, { startLayer, endLayer }, signal);
  }

  /**
   * Finds the directory with the model's config.json on this node without downloading
   * anything: a local directory, or the hub cache or seed dir copy; null when it is not here.
   * @throws {ModelNotFoundError} for a name that is neither known nor a model directory.
   */
  async findLocal(name: string): Promise<ResolvedModel | null> {
    const named = await this.#name(name);
    const dir = await this.#localDir(named);
    return dir === null ? null : { id: named.id, displayName: named.displayName, dir };
  }

  /**
   * What a name designates and what of it is on this node, as `list` shows it, without
   * downloading anything.
   * @throws {ModelNotFoundError} for a name that is neither known nor a model directory.
   */
  async describe(name: string): Promise<KnownModel> {
    const named = await this.#name(name);
    return {
      id: named.id,
      displayName: named.displayName,
      availableLocally: (await this.#localDir(named)) !== null,
      localBytes: named.repo === null
        ? null
        : await repoCacheBytes(this.#options.hubCache, named.repo),
    };
  }

  /**
   * Removes the model's hub cache folder; resolves to the bytes it held (see
   * `KnownModel.localBytes`), or null when there was none.
   * @throws {ModelNotFoundError} for an unknown name.
   * @throws {RangeError} for a local directory, which is never deleted.
   */
  async remove(name: string): Promise<number | null> {
    const named = await this.#name(name);
    if (named.repo === null) {
      throw new RangeError(`Cannot remove ${named.id}: it is a local directory, not a download`);
    }
    const bytes = await repoCacheBytes(this.#options.hubCache, named.repo);
    if (bytes === null) return null;
    try {
      await Deno.remove(repoCacheFolder(this.#options.hubCache, named.repo), { recursive: true });
      return bytes;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  async #resolve(
    name: string,
    range: LayerRange | null,
    signal: AbortSignal | undefined,
  ): Promise<ResolvedModel> {
    const named = await this.#name(name);
    const { id, displayName, repo } = named;
    const { downloader, offline } = this.#options;
    const local = await this.#localDir(named);
    if (repo === null) await refuseUnsupported(id);
    // Without a downloader a config.json is enough for the origin, as before downloads.
    const missing = local === null
      ? null
      : downloader === undefined && range === null
      ? []
      : await missingFiles(local, range);
    if (local !== null && missing?.length === 0) return { id, displayName, dir: local };
    const why = offline ? " and --offline is set" : "";
    if (repo === null || downloader === undefined || offline === true) {
      if (local !== null) {
        throw new ModelNotFoundError(id, [], `${missing!.join(", ")} missing in ${local}${why}`);
      }
      const places = this.#places(repo!, named.cardId).join(", ");
      const known = named.cardId === null ? "not in the registry and" : `it is known (${repo}) but`;
      throw new ModelNotFoundError(
        id,
        named.cardId === null ? suggestions(id) : [],
        `${known} not downloaded on this node${why}; looked in ${places}`,
      );
    }
    const dir = await download(downloader, named as NamedModel & { repo: string }, range, signal);
    const absent = await missingFiles(dir, range);
    if (absent.length > 0) {
      throw new ModelNotFoundError(id, [], `${absent.join(", ")} missing in ${dir} after download`);
    }
    return { id, displayName, dir };
  }

  /** What a name designates; throws for a name that designates nothing. */
  async #name(name: string): Promise<NamedModel> {
    const trimmed = name.trim();
    if (trimmed === "") throw new ModelNotFoundError(name, [], "the name is empty");
    const card = findModelCard(trimmed);
    if (card) {
      return { id: card.id, displayName: card.displayName, repo: card.repo, cardId: card.id };
    }
    if (looksLikePath(trimmed) || await isModelDir(trimmed)) {
      const dir = resolve(trimmed);
      if (!(await isModelDir(dir))) {
        throw new ModelNotFoundError(name, [], `${dir} is not a directory with a config.json`);
      }
      return { id: dir, displayName: dir.split("/").pop() || dir, repo: null, cardId: null };
    }
    if (/^[\w.-]+\/[\w.-]+$/.test(trimmed)) {
      return { id: trimmed, displayName: trimmed, repo: trimmed, cardId: null };
    }
    throw new ModelNotFoundError(
      trimmed,
      suggestions(trimmed),
      "it is not a registry id, a hub repo (org/name) or a model directory",
      { unknownName: true },
    );
  }

  /**
   * Every registry model, with whether it is on this node, then the other hub repos in the
   * hub cache that hold a model (downloaded here or by another tool).
   */
  async list(): Promise<KnownModel[]> {
    const models: KnownModel[] = [];
    const known = new Set<string>();
    for (const card of MODEL_CARDS.values()) {
      known.add(card.repo.toLowerCase());
      models.push({
        id: card.id,
        displayName: card.displayName,
        availableLocally: (await this.#findCard(card)) !== null,
        localBytes: await repoCacheBytes(this.#options.hubCache, card.repo),
      });
    }
    for (const repo of await cachedRepos(this.#options.hubCache)) {
      if (known.has(repo.toLowerCase())) continue;
      if (await findSnapshot(this.#options.hubCache, repo) === null) continue;
      models.push({
        id: repo,
        displayName: repo,
        availableLocally: true,
        localBytes: await repoCacheBytes(this.#options.hubCache, repo),
      });
    }
    return models;
  }

  /** The model's directory on this node (a local directory is one already), or null. */
  #localDir(named: NamedModel): Promise<string | null> {
    return named.repo === null
      ? Promise.resolve(named.id)
      : this.#findRepo(named.repo, named.cardId);
  }

  #findCard(card: ModelCard): Promise<string | null> {
    return this.#findRepo(card.repo, card.id);
  }

  async #findRepo(repo: string, id: string | null): Promise<string | null> {
    const found = await findSnapshot(this.#options.hubCache, repo);
    if (found !== null) return found;
    const seed = this.#options.seedDir;
    if (seed === undefined) return null;
    if (id !== null && await isModelDir(join(seed, id))) return join(seed, id);
    return await findSnapshot(seed, repo);
  }

  #places(repo: string, id: string | null): string[] {
    const places = [repoCacheFolder(this.#options.hubCache, repo)];
    const seed = this.#options.seedDir;
    if (seed !== undefined) {
      if (id !== null) places.push(join(seed, id));
      places.push(repoCacheFolder(seed, repo));
    }
    return places;
  }
}

/**
 * Downloads what a role needs. A hub that cannot be reached is a ModelUnreachableError (the
 * name is fine, the network is not). Otherwise, without its config and tokenizer a model is
 * not available here, so that failure is a ModelNotFoundError: callers that list models
 * treat it as such.
 */
async function download(
  downloader: ModelDownloader,
  named: NamedModel & { repo: string },
  range: LayerRange | null,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { id, repo } = named;
  try {
    return await downloader.download(repo, id, range, signal);
  } catch (error) {
    const hub = signal?.aborted ? null : findHubFailure(error);
    if (hub !== null) throw new ModelUnreachableError(id, repo, named.cardId !== null, hub);
    if (range !== null || error instanceof ModelNotFoundError || signal?.aborted) throw error;
    throw new ModelNotFoundError(
      id,
      [],
      `not downloaded on this node, and fetching its config and tokenizer failed: ${
        (error as Error).message
      }`,
    );
  }
}

/**
 * A directory of a model this build cannot run says so before naming a file it lacks. A
 * config that is broken in another way is reported where the model is loaded.
 */
async function refuseUnsupported(dir: string): Promise<void> {
  try {
    await loadModelConfig(dir);
  } catch (error) {
    if (error instanceof UnsupportedModelError) throw error;
  }
}

/** The repo ids of the model folders in a hub cache (`models--org--name`), sorted. */
async function cachedRepos(hubCache: string): Promise<string[]> {
  const repos: string[] = [];
  try {
    for await (const entry of Deno.readDir(hubCache)) {
      const parts = entry.name.split("--");
      if (entry.isDirectory && parts.length === 3 && parts[0] === "models") {
        repos.push(`${parts[1]}/${parts[2]}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return repos.sort();
}

/** The files `dir` lacks: config and tokenizer for the origin, config and weights for a shard. */
async function missingFiles(dir: string, range: LayerRange | null): Promise<string[]> {
  const missing: string[] = [];
  for (const file of range === null ? REQUIRED_META_FILES : ["config.json"]) {
    if (!(await isFile(join(dir, file)))) missing.push(file);
  }
  if (range === null || missing.includes("config.json")) return missing;
  const config = await loadModelConfig(dir);
  for (const file of await localShardWeightFiles(dir, config, range)) {
    if (!(await isFile(join(dir, file)))) missing.push(file);
  }
  return missing;
}

function looksLikePath(name: string): boolean {
  return name.startsWith("/") || name.startsWith("./") || name.startsWith("../") ||
    name.startsWith("~") || name.includes("\\");
}

/** Registry ids closest to `name`, best first (at most 3). */
function suggestions(name: string): string[] {
  const typed = name.toLowerCase().split("/").pop()!;
  return [...MODEL_CARDS.keys()]
    .map((id) => ({ id, distance: editDistance(typed, id) }))
    .filter(({ id, distance }) => distance <= Math.max(3, Math.floor(id.length / 3)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map(({ id }) => id);
}
