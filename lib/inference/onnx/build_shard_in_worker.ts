import { CheckpointError } from "../../model/checkpoint_error.ts";
import { UnsupportedModelError } from "../../model/unsupported_model_error.ts";
import { type CachedShard, cachedShard, type ShardCacheRequest } from "./shard_cache.ts";

/** What the build worker answers. */
export type BuildReply =
  | { ok: CachedShard }
  | { error: { name: string; message: string } };

const ERROR_TYPES: Record<string, new (message: string) => Error> = {
  TypeError,
  RangeError,
  SyntaxError,
  CheckpointError,
  UnsupportedModelError,
  NotFound: Deno.errors.NotFound,
  PermissionDenied: Deno.errors.PermissionDenied,
};

/**
 * Returns the shard's cached build, or builds it in a worker thread so that this thread
 * keeps answering peers meanwhile. Errors come back with their original type (for the
 * ones callers tell apart) and message.
 */
export async function buildShardInWorker(request: ShardCacheRequest): Promise<CachedShard> {
  const hit = await cachedShard(request);
  if (hit !== null) return hit;
  const worker = new Worker(new URL("./shard_build_worker.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    const reply = await new Promise<BuildReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<BuildReply>) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`Cannot build shard: the build worker failed: ${event.message}`));
      };
      worker.postMessage(request);
    });
    if ("ok" in reply) return reply.ok;
    const Type = ERROR_TYPES[reply.error.name] ?? Error;
    const error = new Type(reply.error.message);
    if (Type === Error && reply.error.name !== "Error") error.name = reply.error.name;
    throw error;
  } finally {
    worker.terminate();
  }
}
