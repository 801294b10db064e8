import { FlagError } from "./flag_error.ts";
import type { NodeOptions } from "./node_options.ts";
import { parseApiKey, parseText } from "./_values.ts";

/** Options with the secrets read from their files, and what to warn the user about. */
export interface SecretsRead {
  options: NodeOptions;
  /** One line per file that others than its owner may read. */
  warnings: string[];
}

const FILES = [
  {
    flag: "--cluster-secret-file",
    file: "clusterSecretFile",
    secret: "clusterSecret",
    parse: parseText,
  },
  { flag: "--api-key-file", file: "apiKeyFile", secret: "apiKey", parse: parseApiKey },
] as const;

/**
 * Reads `--cluster-secret-file` and `--api-key-file` (absolute paths, as `parseFlags`
 * leaves them) into the secrets they hold. A file's content less one final newline is the
 * secret, so `echo secret > file` works. A file that others may read is used all the same,
 * with a warning: secrets mounted by Docker or Kubernetes are world-readable by default, and
 * refusing them, as ssh refuses a private key, would stop a node the user can fix later.
 *
 * @throws {FlagError} for a file that is missing, unreadable or empty, or whose content is
 * not a valid secret; the message names the flag and the file, never the content.
 */
export async function readSecretFiles(options: NodeOptions): Promise<SecretsRead> {
  const read: NodeOptions = { ...options };
  const warnings: string[] = [];
  for (const { flag, file, secret, parse } of FILES) {
    const path = options[file];
    if (path === undefined) continue;
    const text = await readOrThrow(flag, path);
    const value = text.replace(/\r?\n$/, "");
    if (value.trim() === "") {
      throw new FlagError(`Cannot use ${flag} ${path}: the file is empty`, flag);
    }
    try {
      read[secret] = parse(value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      // Only parseApiKey fails on a value that is not blank, and its message never shows it.
      throw new FlagError(`Cannot use ${flag} ${path}: ${error.message}`, flag);
    }
    const mode = (await Deno.stat(path)).mode;
    if (mode !== null && (mode & 0o077) !== 0) {
      warnings.push(
        `${flag} ${path} can be read by other users (mode ${
          (mode & 0o777).toString(8)
        }); make it private with chmod 600 ${path}`,
      );
    }
  }
  return { options: read, warnings };
}

async function readOrThrow(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new FlagError(`Cannot read ${flag} ${path}: ${reason(error)}`, flag);
  }
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  return error instanceof Error ? error.message : String(error);
}
