import { CheckpointError } from "./checkpoint_error.ts";

/** File name of a sharded checkpoint's index. */
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";

/** File name of a single-file checkpoint. */
export const SAFETENSORS_SINGLE_FILE = "model.safetensors";

/**
 * Parses a `model.safetensors.index.json` into its `weight_map`: tensor name to the file,
 * relative to the model directory, that holds it. File names must stay inside the model
 * directory, since the downloader builds paths from them.
 */
export function parseSafetensorsIndex(json: unknown, source: string): Map<string, string> {
  const fail = (detail: string) =>
    new CheckpointError(`Cannot read safetensors index ${source}: ${detail}`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw fail("index is not a JSON object");
  }
  const weightMap = (json as Record<string, unknown>).weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw fail("weight_map is missing or not an object");
  }
  const files = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== "string") {
      throw fail(`weight_map entry ${name} is not a file name: ${JSON.stringify(file)}`);
    }
    if (!isPlainFileName(file)) {
      throw fail(`weight_map entry ${name} points outside the model directory: ${file}`);
    }
    files.set(name, file);
  }
  return files;
}

function isPlainFileName(file: string): boolean {
  return file.length > 0 && !file.startsWith(".") && !/[\/\\:\0]/.test(file);
}
