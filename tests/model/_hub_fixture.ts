import { join } from "node:path";
import { writeRandomCheckpoint, type WrittenCheckpoint } from "../fixtures/make_checkpoint.ts";
import { FakeHub } from "./_fake_hub.ts";
import { HubClient } from "../../lib/model/hub_client.ts";
import { ModelDownloader } from "../../lib/model/model_downloader.ts";
import { ModelResolver } from "../../lib/model/model_resolver.ts";
import type { DownloadEvent } from "../../lib/model/download_progress.ts";

/** The repo id the tests serve their checkpoint under. */
export const REPO = "test-org/tiny-llama";

/** A fake hub serving an 8-layer checkpoint in 4 weight files as {@linkcode REPO}. */
export async function startHub(
  root: string,
  options: { gated?: boolean; numLayers?: number; shards?: number } = {},
): Promise<{ hub: FakeHub; model: WrittenCheckpoint }> {
  const model = await writeRandomCheckpoint(join(root, "repo"), {
    architecture: "llama",
    numLayers: options.numLayers ?? 8,
    shards: options.shards ?? 4,
    seed: 5,
  });
  const hub = await FakeHub.start([{ id: REPO, dir: model.dir, gated: options.gated }]);
  return { hub, model };
}

/** A resolver that downloads from `hub` into `hubCache`, with fast retries. */
export function hubResolver(
  hub: FakeHub,
  hubCache: string,
  options: {
    token?: string;
    offline?: boolean;
    nodeId?: string;
    events?: DownloadEvent[];
    maxParallel?: number;
    seedDir?: string;
  } = {},
): ModelResolver {
  const downloader = new ModelDownloader({
    client: new HubClient({ endpoint: hub.endpoint, token: options.token }),
    hubCache,
    nodeId: options.nodeId ?? "node-a",
    maxParallel: options.maxParallel,
    onProgress: (event) => options.events?.push(event),
    backoffMs: 10,
  });
  return new ModelResolver({
    hubCache,
    downloader,
    offline: options.offline,
    seedDir: options.seedDir,
  });
}

/** Reads a file's bytes. */
export function bytesOf(path: string): Promise<Uint8Array> {
  return Deno.readFile(path);
}
