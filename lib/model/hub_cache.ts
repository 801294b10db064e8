import { dirname, join, relative } from "node:path";

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

/**
 * The bytes a repo's cache folder (`models--org--name`) holds on disk: every regular file
 * once (blobs, partial downloads, refs; a hard-linked file once), symlinks not followed.
 * Null when the folder does not exist.
 */
export async function repoCacheBytes(hubCache: string, repo: string): Promise<number | null> {
  const folder = repoCacheFolder(hubCache, repo);
  try {
    if (!(await Deno.lstat(folder)).isDirectory) return null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const seen = new Set<string>();
  let bytes = 0;
  const pending = [folder];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        pending.push(path);
      } else if (entry.isFile) {
        // A download under way renames its partial file away between the listing and here.
        const info = await lstatOrNull(path);
        const inode = info?.ino == null ? path : `${info.dev}:${info.ino}`;
        if (info === null || seen.has(inode)) continue;
        seen.add(inode);
        bytes += info.size;
      }
    }
  }
  return bytes;
}

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
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

/** Where the hub cache keeps one file's content: `blobs/<etag>`. */
export function blobPath(hubCache: string, repo: string, etag: string): string {
  if (!/^[\w.-]+$/.test(etag) || etag.startsWith(".")) {
    throw new RangeError(`Cannot store a blob: etag ${JSON.stringify(etag)} is not a plain name`);
  }
  return join(repoCacheFolder(hubCache, repo), "blobs", etag);
}

/** The snapshot directory of one commit: `snapshots/<commit>`. */
export function snapshotDir(hubCache: string, repo: string, commit: string): string {
  if (!/^[\w.-]+$/.test(commit) || commit.startsWith(".")) {
    throw new RangeError(`Cannot use commit ${JSON.stringify(commit)}: not a plain name`);
  }
  return join(repoCacheFolder(hubCache, repo), "snapshots", commit);
}

/** The commit `refs/<ref>` points at, or null when the ref is not written. */
export async function readRef(
  hubCache: string,
  repo: string,
  ref = "main",
): Promise<string | null> {
  try {
    const commit = (await Deno.readTextFile(join(repoCacheFolder(hubCache, repo), "refs", ref)))
      .trim();
    return /^[\w.-]+$/.test(commit) ? commit : null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Points `refs/<ref>` at a commit, as the hub's tools do (no trailing newline). */
export async function writeRef(
  hubCache: string,
  repo: string,
  commit: string,
  ref = "main",
): Promise<void> {
  const path = join(repoCacheFolder(hubCache, repo), "refs", ref);
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temporary, commit);
  await Deno.rename(temporary, path);
}

/**
 * Makes `snapshots/<commit>/<file>` a relative symlink to `blobs/<etag>`, the way
 * huggingface_hub does, replacing whatever was there. Returns the snapshot file's path.
 */
export async function linkSnapshotFile(
  hubCache: string,
  repo: string,
  commit: string,
  file: string,
  etag: string,
): Promise<string> {
  const path = join(snapshotDir(hubCache, repo, commit), file);
  await Deno.mkdir(dirname(path), { recursive: true });
  const target = relative(dirname(path), blobPath(hubCache, repo, etag));
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.symlink(target, temporary);
  await Deno.rename(temporary, path);
  return path;
}

/** Whether `path` is a file (a symlink is followed). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}

/**
 * Takes the lock huggingface_hub takes before writing a blob (`.locks/models--org--name/
 * <etag>.lock`, an exclusive flock), waiting while another process holds it. Closing the
 * returned file releases it.
 */
export async function lockBlob(hubCache: string, repo: string, etag: string): Promise<Deno.FsFile> {
  const folder = repoCacheFolder(hubCache, repo).slice(hubCache.length + 1);
  const path = join(hubCache, ".locks", folder, `${etag}.lock`);
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true);
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}
