/**
 * Directories built in a staging directory and renamed into place with a completion
 * marker inside, so a crash mid-build never leaves a half-written directory that a later
 * run would trust, and two processes building the same one both end with a whole copy.
 * @module
 */

/** Whether `path` exists; other errors than "not found" are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Makes a staging directory beside `dir` (in its parent, created if needed), lets `build`
 * fill it, writes `doneFile` with `marker` into it and renames it to `dir`. When another
 * process finished `dir` first, its copy is kept and ours removed; a failed build removes
 * the staging directory and throws.
 */
export async function buildStagedDir(
  dir: string,
  doneFile: string,
  marker: string,
  build: (staging: string) => Promise<void>,
): Promise<void> {
  const parent = dir.slice(0, dir.lastIndexOf("/")) || ".";
  await Deno.mkdir(parent, { recursive: true });
  const name = dir.slice(dir.lastIndexOf("/") + 1);
  const staging = await Deno.makeTempDir({ dir: parent, prefix: `.${name}-` });
  try {
    await build(staging);
    await Deno.writeTextFile(`${staging}/${doneFile}`, marker);
    try {
      await Deno.rename(staging, dir);
    } catch (error) {
      if (!(await pathExists(`${dir}/${doneFile}`))) throw error;
      await Deno.remove(staging, { recursive: true });
    }
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
}
