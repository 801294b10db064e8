/**
 * The models and downloads as the page knows them: polls `/v1/models` and every node's
 * download progress (faster while something downloads), leaves out the events not worth
 * showing, starts downloads, and tells the message waiter each change.
 * @module
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ApiClient, DownloadProgress, ModelInfo } from "../lib/api_client.ts";
import { NodeApiError } from "../lib/api_error.ts";
import { eventKey, type ModelStatus, modelStatuses, shownDownloads } from "../lib/model_status.ts";
import type { ModelWaiter } from "../lib/model_waiter.ts";
import { usePoll } from "./use_poll.ts";

/** What {@linkcode useClusterModels} needs from the page. */
export interface ClusterModelsDeps {
  client: ApiClient;
  /** Polls start again when it changes. */
  apiKey: string | null;
  waiter: ModelWaiter;
  /** Told every failed request (the page shows a lost node or a missing key). */
  failed(error: unknown): void;
  /** Told when the model list came (the node answers again). */
  answered(): void;
}

/** The page's models and downloads. */
export interface ClusterModels {
  models: ModelInfo[] | null;
  statuses: ModelStatus[] | null;
  /** Download events worth listing. */
  downloads: DownloadProgress[];
  /**
   * Asks the cluster to download `status`'s model; rejects with the node's answer when it
   * will not start. Its old failures are forgotten first, so a message sent after the
   * start waits for the new download instead of failing on the old one.
   */
  download(status: ModelStatus): Promise<void>;
  /** Forgets download events: dismissed failures, a deleted model's old events. */
  forget(events: readonly DownloadProgress[]): void;
  refreshModels(): Promise<void>;
}

/** Polls the node's models and downloads. */
export function useClusterModels(deps: ClusterModelsDeps): ClusterModels {
  const { client, waiter, failed } = deps;
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [progress, setProgress] = useState<DownloadProgress[]>([]);
  // Events not to show: a deleted model's old ones, dismissed failures, and the failures
  // behind a 404 answer (an unknown name is not a failed download).
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [notFound, setNotFound] = useState<ReadonlySet<string>>(new Set());
  const [fastUntil, setFastUntil] = useState(0);

  const visible = (hide: ReadonlySet<string>, missing: ReadonlySet<string>) =>
    shownDownloads(progress, hide, Date.now()).filter((d) =>
      !(d.status === "failed" && missing.has(d.model))
    );
  const downloads = visible(hidden, notFound);
  const statuses = useMemo(
    () => models === null ? null : modelStatuses(models, downloads),
    [models, progress, hidden, notFound],
  );
  useEffect(() => {
    if (statuses !== null) waiter.update(statuses);
  }, [statuses]);
  const downloading = statuses?.some((s) => s.state === "downloading") ?? false;

  const refreshModels = () =>
    client.models().then((list) => {
      setModels(list);
      deps.answered();
    }, failed);
  const refreshProgress = () => client.progress().then(setProgress, failed);
  usePoll(refreshModels, downloading ? 2000 : 8000, [deps.apiKey]);
  const fast = downloading || Date.now() < fastUntil;
  usePoll(refreshProgress, fast ? 700 : 4000, [deps.apiKey, fast]);
  const wasDownloading = useRef(false);
  useEffect(() => {
    if (wasDownloading.current && !downloading) refreshModels();
    wasDownloading.current = downloading;
  }, [downloading]);

  const download = async (status: ModelStatus): Promise<void> => {
    const id = status.info.id;
    setFastUntil(Date.now() + 15_000);
    const forgotten = new Set([...hidden, ...status.downloads.map(eventKey)]);
    const found = new Set([...notFound].filter((m) => m !== id));
    setHidden(forgotten);
    setNotFound(found);
    waiter.update(modelStatuses(models ?? [], visible(forgotten, found)));
    try {
      await client.download(id);
    } catch (error) {
      failed(error);
      if (error instanceof NodeApiError && error.status === 404) {
        setNotFound(new Set([...found, id]));
      }
      throw error;
    } finally {
      // The new download's events, or the failed ones of this attempt (which a retry then
      // forgets too).
      refreshProgress();
    }
  };

  return {
    models,
    statuses,
    downloads,
    download,
    forget: (events) => setHidden(new Set([...hidden, ...events.map(eventKey)])),
    refreshModels,
  };
}
