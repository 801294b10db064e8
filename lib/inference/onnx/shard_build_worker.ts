/**
 * Worker entry that builds one shard graph into the cache, so the conversion (reading,
 * transposing and quantizing gigabytes of weights) never blocks the node's event loop:
 * peers that hear nothing for a few seconds drop the connection.
 * @module
 */
/// <reference lib="deno.worker" />
import { CheckpointReader } from "../../model/checkpoint_reader.ts";
import { ensureShardModel, type ShardCacheRequest } from "./shard_cache.ts";
import type { BuildReply } from "./build_shard_in_worker.ts";

self.onmessage = async (event: MessageEvent<ShardCacheRequest>) => {
  const request = event.data;
  let reply: BuildReply;
  try {
    const cached = await ensureShardModel(request, () => CheckpointReader.open(request.modelDir));
    reply = { ok: cached };
  } catch (error) {
    const { name, message } = error instanceof Error
      ? error
      : { name: "Error", message: String(error) };
    reply = { error: { name, message } };
  }
  self.postMessage(reply);
};
