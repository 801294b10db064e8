import { join } from "node:path";

/** Where environment variables are read; `Deno.env` fits. */
export interface EnvReader {
  get(name: string): string | undefined;
}

/** The public Hugging Face hub. */
export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

/** The hub endpoint: `HF_ENDPOINT`, else the public hub; without a trailing slash. */
export function hubEndpoint(env: EnvReader): string {
  const endpoint = env.get("HF_ENDPOINT")?.trim() || DEFAULT_HUB_ENDPOINT;
  return endpoint.replace(/\/+$/, "");
}

/** Whether `HF_HUB_OFFLINE` asks for local files only (1, true, yes or on). */
export function hubOfflineFromEnv(env: EnvReader): boolean {
  const value = env.get("HF_HUB_OFFLINE")?.trim().toLowerCase() ?? "";
  return ["1", "true", "yes", "on"].includes(value);
}

/**
 * The hub token, as the hub's own tools find it: `HF_TOKEN`, else the token file
 * `HF_TOKEN_PATH`, else `HF_HOME/token`, else `~/.cache/huggingface/token`. Undefined when
 * there is none.
 */
export async function hubToken(env: EnvReader): Promise<string | undefined> {
  const explicit = env.get("HF_TOKEN")?.trim();
  if (explicit) return explicit;
  const home = env.get("HF_HOME") ??
    join(env.get("HOME") ?? env.get("USERPROFILE") ?? ".", ".cache", "huggingface");
  const path = env.get("HF_TOKEN_PATH") ?? join(home, "token");
  try {
    return (await Deno.readTextFile(path)).trim() || undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}
