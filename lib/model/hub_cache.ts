import { join } from "node:path";

/**
 * The Hugging Face hub cache directory, as the hub's own tools find it: `HF_HUB_CACHE`,
 * else `HF_HOME/hub`, else `~/.cache/huggingface/hub`.
 */
export function hubCacheDir(env: { get(name: string): string | undefined }): string {
  const explicit = env.get("HF_HUB_CACHE");
  if (explicit) return explicit;
  const home = env.get("HF_HOME");
  if (home) return join(home, "hub");
  const userHome = env.get("HOME") ?? env.get("USERPROFILE") ?? ".";
  return join(userHome, ".cache", "huggingface", "hub");
}

/** The cache folder of a hub repo: `models--org--name`. */
export function repoCacheFolder(hubCache: string, repo: string): string {
  return join(hubCache, `models--${repo.split("/").join("--")}`);
}

/**
 * The snapshot directory of a repo in the hub cache that holds a config.json: the one
 * `refs/main` points at, else any snapshot. Null when there is none.
 */
export async function findSnapshot(hubCache: string, repo: string): Promise<string | null> {
  const folder = repoCacheFolder(hubCache, repo);
  const candidates: string[] = [];
  try {
    const ref = (await Deno.readTextFile(join(folder, "refs", "main"))).trim();
    if (/^[0-9a-zA-Z._-]+$/.test(ref)) candidates.push(join(folder, "snapshots", ref));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    for await (const entry of Deno.readDir(join(folder, "snapshots"))) {
      if (entry.isDirectory) candidates.push(join(folder, "snapshots", entry.name));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const dir of candidates) {
    if (await isModelDir(dir)) return dir;
  }
  return null;
}

/** Whether `dir` is a directory holding a config.json. */
export async function isModelDir(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(dir, "config.json"))).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}
