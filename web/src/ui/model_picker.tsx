/**
 * The model picker: every model the node knows, with where it stands on the cluster
 * (downloaded, downloading with progress, failed, not downloaded), its size and whether
 * the cluster's memory holds it, a search box, and the download and delete actions.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ModelStatus } from "../lib/model_status.ts";
import { memoryFit, sortForPicker } from "../lib/model_status.ts";
import { formatBytes, formatEta, formatPercent, formatSpeed } from "../lib/format.ts";
import { sizeLine } from "../lib/model_size_text.ts";
import { Icon } from "./icons.tsx";

/** Props of {@linkcode ModelPicker}. */
export interface ModelPickerProps {
  statuses: ModelStatus[] | null;
  selected: string | null;
  /** The memory of the cluster's answering nodes in bytes; null while unknown. */
  clusterBytes: number | null;
  /** Whether the list is open; the page opens it too ("Choose another model"). */
  open: boolean;
  onOpenChange(open: boolean): void;
  onSelect(status: ModelStatus): void;
  onDownload(status: ModelStatus): void;
  onDelete(status: ModelStatus): void;
}

/** The button showing the chosen model, and its drop-down list. */
export function ModelPicker(props: ModelPickerProps): JSX.Element {
  const { open, onOpenChange } = props;
  const [query, setQuery] = useState("");
  const root = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (open) search.current?.focus();
  }, [open]);
  useEffect(() => {
    if (!open) return;
    const close = (e: Event) => {
      if (
        e instanceof KeyboardEvent ? e.key === "Escape" : !root.current?.contains(e.target as Node)
      ) {
        onOpenChange(false);
      }
    };
    document.addEventListener("pointerdown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("pointerdown", close);
      document.removeEventListener("keydown", close);
    };
  }, [open]);
  const current = props.statuses?.find((s) => s.info.id === props.selected);
  const needle = query.trim().toLowerCase();
  const shown = sortForPicker(props.statuses ?? []).filter((s) =>
    needle === "" || s.info.name.toLowerCase().includes(needle) ||
    s.info.id.toLowerCase().includes(needle)
  );
  return (
    <div class="picker" ref={root}>
      <button
        type="button"
        class="picker-button"
        aria-haspopup="dialog"
        aria-expanded={open}
        data-testid="model-picker"
        onClick={() => onOpenChange(!open)}
      >
        <span class={`state-dot ${current?.state ?? "absent"}`} aria-hidden="true" />
        <span class="picker-name">
          {current?.info.name ?? (props.statuses === null ? "Loading models…" : "Choose a model")}
        </span>
        <Icon name="chevron" />
      </button>
      {open && (
        <div class="picker-menu" role="dialog" aria-label="Models">
          <input
            class="picker-search"
            type="search"
            placeholder="Search models"
            aria-label="Search models"
            value={query}
            ref={search}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          />
          <ul class="picker-list" aria-label="Models">
            {shown.length === 0 && <li class="picker-empty">No model matches “{query}”</li>}
            {shown.map((status) => (
              <ModelRow
                key={status.info.id}
                status={status}
                clusterBytes={props.clusterBytes}
                selected={status.info.id === props.selected}
                onSelect={() => {
                  props.onSelect(status);
                  onOpenChange(false);
                }}
                onDownload={() => props.onDownload(status)}
                onDelete={() => props.onDelete(status)}
              />
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function ModelRow(props: {
  status: ModelStatus;
  clusterBytes: number | null;
  selected: boolean;
  onSelect(): void;
  onDownload(): void;
  onDelete(): void;
}): JSX.Element {
  const { status } = props;
  const deletable = status.state === "local" && typeof status.info.local_bytes === "number";
  const fit = memoryFit(status.info, props.clusterBytes);
  const size = sizeLine(status.info, fit);
  return (
    <li
      class={`model-row ${status.state}${props.selected ? " selected" : ""}`}
      data-model={status.info.id}
      data-state={status.state}
      data-fits={fit === null ? undefined : String(fit.fits)}
    >
      <button
        type="button"
        class="model-main"
        aria-current={props.selected ? "true" : undefined}
        onClick={props.onSelect}
      >
        <span class="model-title">
          <span class={`state-dot ${status.state}`} aria-hidden="true" />
          <span class="model-name">{status.info.name}</span>
          {status.info.is_default && <span class="tag">default</span>}
        </span>
        <span class="model-detail" title={status.error ?? undefined}>{describe(status)}</span>
        {size !== null && (
          <span class={`model-size${fit?.fits === false ? " too-large" : ""}`} data-size>
            {fit?.fits === false && <Icon name="alert" />}
            {size}
          </span>
        )}
        {status.state === "downloading" && (
          <span class="progress" aria-hidden="true">
            <span style={{ width: formatPercent(status.bytes, status.totalBytes, false) }} />
          </span>
        )}
      </button>
      <span class="model-actions">
        {(status.state === "absent" || status.state === "failed") && (
          <button
            type="button"
            class="icon-button small"
            title={status.state === "failed" ? "Retry the download" : "Download to the cluster"}
            aria-label={`Download ${status.info.name}`}
            onClick={props.onDownload}
          >
            <Icon name={status.state === "failed" ? "refresh" : "download"} />
          </button>
        )}
        {deletable && (
          <button
            type="button"
            class="icon-button small danger"
            title="Delete from this node"
            aria-label={`Delete ${status.info.name}`}
            onClick={props.onDelete}
          >
            <Icon name="trash" />
          </button>
        )}
      </span>
    </li>
  );
}

function describe(status: ModelStatus): string {
  switch (status.state) {
    case "local":
      return typeof status.info.local_bytes === "number" && status.info.local_bytes > 0
        ? `Downloaded · ${formatBytes(status.info.local_bytes)} on this node`
        : "Ready";
    case "downloading":
      return `Downloading ${formatPercent(status.bytes, status.totalBytes, false)} · ${
        formatBytes(status.bytes)
      } of ${formatBytes(status.totalBytes)} · ${formatSpeed(status.speed)} · ${
        formatEta(status.eta)
      } left`;
    case "failed":
      // The reason is in the downloads list and the download dialog; not a third time here.
      return "Download failed · open to retry";
    case "absent":
      return status.info.id === status.info.name
        ? "Not downloaded"
        : `Not downloaded · ${status.info.id}`;
  }
}
