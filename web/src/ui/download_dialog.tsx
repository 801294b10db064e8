/**
 * The question before a model is downloaded to the cluster: its size, whether the
 * cluster's memory holds it, the last attempt's failure; and, when the download cannot
 * start, why, with retry, another model, or cancel: never a dead end.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { NodeApiError } from "../lib/api_error.ts";
import { formatBytes } from "../lib/format.ts";
import type { MemoryFit, ModelStatus } from "../lib/model_status.ts";
import { tooLargeText } from "../lib/model_size_text.ts";
import { Dialog } from "./dialog.tsx";
import { ErrorText } from "./error_text.tsx";
import { Icon } from "./icons.tsx";

/** Props of {@linkcode DownloadDialog}. */
export interface DownloadDialogProps {
  status: ModelStatus;
  fit: MemoryFit | null;
  /** Nodes that answer; null while the topology is not known. */
  nodes: number | null;
  /** A message goes once the download is done. */
  sendAfter: boolean;
  /** Starts the download; rejects with the reason it could not start. */
  onDownload(): Promise<void>;
  /** The download started while the dialog was still open (not cancelled). */
  onStarted(): void;
  onChooseAnother(): void;
  onClose(): void;
}

type Phase = { kind: "offer" } | { kind: "starting" } | { kind: "failed"; error: Error };

/** Offers a model's download; shows why it could not start and what to do then. */
export function DownloadDialog(props: DownloadDialogProps): JSX.Element {
  const [phase, setPhase] = useState<Phase>({ kind: "offer" });
  const open = useRef(true);
  useEffect(() => () => {
    open.current = false;
  }, []);
  const { status, fit } = props;
  const name = status.info.name;
  const start = () => {
    setPhase({ kind: "starting" });
    props.onDownload().then(
      () => {
        if (!open.current) return;
        props.onStarted();
        props.onClose();
      },
      (error) => {
        if (open.current) setPhase({ kind: "failed", error: error as Error });
      },
    );
  };
  const chooseAnother = () => {
    props.onClose();
    props.onChooseAnother();
  };
  if (phase.kind === "failed") {
    const { error } = phase;
    const title = error instanceof NodeApiError ? error.title : "The download did not start";
    return (
      <Dialog title={`Cannot download ${name}`} name="download" onClose={props.onClose}>
        <div class="dialog-text">
          <Failure title={title} message={error.message} />
          {props.sendAfter && <p>Your message stays in the box until a model can answer it.</p>}
        </div>
        <div class="dialog-actions">
          <button type="button" class="button ghost" onClick={props.onClose}>Cancel</button>
          <button type="button" class="button ghost" onClick={chooseAnother}>
            Choose another model
          </button>
          <button type="button" class="button primary" data-confirm onClick={start}>
            Retry
          </button>
        </div>
      </Dialog>
    );
  }
  const tooLarge = tooLargeText(fit, props.nodes ?? 1);
  const retry = status.state === "failed";
  const nodes = props.nodes;
  return (
    <Dialog title={`Download ${name}?`} name="download" onClose={props.onClose}>
      <div class="dialog-text">
        <p>
          It is not on the cluster yet. Each node fetches only the layers it runs
          {nodes === null ? "" : `, across ${nodes} ${nodes === 1 ? "node" : "nodes"}`}.
          {props.sendAfter ? " Your message is sent as soon as the download is done." : ""}
        </p>
        <Facts status={status} fit={fit} />
        {tooLarge !== null && (
          <div class="notice warn" role="alert" data-too-large>
            <Icon name="alert" />
            <div>
              <strong>Too large for this cluster</strong>
              <p>{tooLarge}</p>
            </div>
          </div>
        )}
        {retry && <Failure title="The last download failed" message={status.error ?? ""} />}
      </div>
      <div class="dialog-actions">
        <button type="button" class="button ghost" onClick={props.onClose}>Cancel</button>
        {retry && tooLarge === null && (
          <button type="button" class="button ghost" onClick={chooseAnother}>
            Choose another model
          </button>
        )}
        <button
          type="button"
          class={`button ${tooLarge !== null ? "ghost" : "primary"}`}
          data-confirm
          disabled={phase.kind === "starting"}
          onClick={start}
        >
          {phase.kind === "starting"
            ? "Starting…"
            : tooLarge !== null
            ? "Download anyway"
            : retry
            ? "Retry download"
            : props.sendAfter
            ? "Download and send"
            : "Download"}
        </button>
        {tooLarge !== null && (
          // Last, where the main action goes: the way on that is likely to work.
          <button type="button" class="button primary" onClick={chooseAnother}>
            Choose another model
          </button>
        )}
      </div>
    </Dialog>
  );
}

function Facts(props: { status: ModelStatus; fit: MemoryFit | null }): JSX.Element | null {
  const { info } = props.status;
  const { fit } = props;
  const download = typeof info.download_bytes === "number" ? info.download_bytes : null;
  const memory = typeof info.memory_bytes === "number" ? info.memory_bytes : null;
  if (download === null && memory === null) return null;
  return (
    <dl class="facts" data-facts>
      {download !== null && (
        <div>
          <dt>Download</dt>
          <dd>about {formatBytes(download)} in all, shared among the nodes</dd>
        </div>
      )}
      {memory !== null && (
        <div>
          <dt>Memory</dt>
          <dd>
            about {formatBytes(memory)} to run
            {fit !== null && `; the cluster has ${formatBytes(fit.has)}`}
          </dd>
        </div>
      )}
    </dl>
  );
}

function Failure(props: { title: string; message: string }): JSX.Element {
  return (
    <div class="notice danger" role="alert" data-failure>
      <Icon name="alert" />
      <div>
        <strong>{props.title}</strong>
        <p>
          <ErrorText text={props.message} />
        </p>
      </div>
    </div>
  );
}
