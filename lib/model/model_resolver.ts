import { join, resolve } from "node:path";
import { editDistance } from "../cli/_suggest.ts";
import { findModelCard, MODEL_CARDS, type ModelCard } from "./registry.ts";
import { findSnapshot, isModelDir, repoCacheFolder } from "./hub_cache.ts";
import { ModelNotFoundError } from "./model_not_found_error.ts";

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
}

/** A model known by name, and whether its files are on this node. */
export interface KnownModel {
  id: string;
  displayName: string;
  availableLocally: boolean;
}

/**
 * Finds a model's files on this node from a registry id, a Hugging Face repo id
 * (`org/name`, looked up in the hub cache layout) or a local directory. Downloads are not
 * done here: a known model that is not on disk is an error saying where it was looked for.
 */
export class ModelResolver {
  #options: ModelResolverOptions;

  /** Creates a resolver over the given places. */
  constructor(options: ModelResolverOptions) {
    this.#options = options;
  }

  /**
   * Resolves a model name to its local files.
   * @throws {ModelNotFoundError} for a name that is neither known nor a model directory,
   * or a known model whose files are not on this node.
   */
  async resolve(name: string): Promise<ResolvedModel> {
    const trimmed = name.trim();
    if (trimmed === "") throw new ModelNotFoundError(name, [], "the name is empty");
    const card = findModelCard(trimmed);
    if (card) {
      const dir = await this.#findCard(card);
      if (dir === null) {
        throw new ModelNotFoundError(
          card.id,
          [],
          `it is known (${card.repo}) but not downloaded on this node; looked in ${
            this.#places(card.repo, card.id).join(", ")
          }`,
        );
      }
      return { id: card.id, displayName: card.displayName, dir };
    }
    if (looksLikePath(trimmed) || await isModelDir(trimmed)) {
      const dir = resolve(trimmed);
      if (!(await isModelDir(dir))) {
        throw new ModelNotFoundError(name, [], `${dir} is not a directory with a config.json`);
      }
      return { id: dir, displayName: dir.split("/").pop() || dir, dir };
    }
    if (/^[\w.-]+\/[\w.-]+$/.test(trimmed)) {
      const dir = await this.#findRepo(trimmed, null);
      if (dir !== null) return { id: trimmed, displayName: trimmed, dir };
      throw new ModelNotFoundError(
        trimmed,
        suggestions(trimmed),
        `not in the registry and not downloaded on this node; looked in ${
          this.#places(trimmed, null).join(", ")
        }`,
      );
    }
    throw new ModelNotFoundError(trimmed, suggestions(trimmed));
  }

  /** Every registry model, with whether it is on this node. */
  async list(): Promise<KnownModel[]> {
    const models: KnownModel[] = [];
    for (const card of MODEL_CARDS.values()) {
      models.push({
        id: card.id,
        displayName: card.displayName,
        availableLocally: (await this.#findCard(card)) !== null,
      });
    }
    return models;
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
