/**
 * The cluster as the node this page talks to sees it: every node with its chip, memory,
 * TFLOPS, whether it answers, where it runs its shard (with what auto measured), its
 * layers of the chosen model; then the downloads.
 * @module
 */
import type { JSX } from "preact";
import type { DownloadProgress, Topology, TopologyNode } from "../lib/api_client.ts";
import {
  formatBytes,
  formatEta,
  formatLayers,
  formatMemoryMb,
  formatPercent,
  formatRtt,
  formatSpeed,
  formatTflops,
} from "../lib/format.ts";
import { ErrorText } from "./error_text.tsx";
import { Icon } from "./icons.tsx";
import { autoFootnotes, candidateRows, engineSummary } from "../lib/engine_text.ts";
import type { TopologyEngine } from "../lib/api_client.ts";

/** Props of {@linkcode ClusterPanel}. */
export interface ClusterPanelProps {
  topology: Topology | null;
  /** The node stopped answering: the topology is as last seen (the banner says why). */
  offline: boolean;
  /** Downloads to list (the page leaves out old and dismissed ones). */
  downloads: DownloadProgress[];
  /** A model whose failure a dialog shows now: not listed a second time. */
  hideFailuresOf: string | null;
  /** Model names by id, for the downloads list. */
  modelName(id: string): string;
  /** Forgets failed download events. */
  onDismiss(events: DownloadProgress[]): void;
  onClose(): void;
}

/** The cluster panel. */
export function ClusterPanel(props: ClusterPanelProps): JSX.Element {
  const { topology } = props;
  const alive = topology?.nodes.filter((n) => n.alive) ?? [];
  const memory = alive.reduce((sum, n) => sum + n.capabilities.memory, 0);
  const tflops = alive.reduce((sum, n) => sum + n.capabilities.flops.fp32, 0);
  const running = props.downloads.filter((d) => d.status === "downloading");
  const failures = failureGroups(
    props.downloads.filter((d) => d.status === "failed" && d.model !== props.hideFailuresOf),
  );
  return (
    <div class="cluster-panel" data-testid="cluster-panel">
      <div class="panel-head">
        <h2>Cluster</h2>
        <button
          type="button"
          class="icon-button panel-close"
          aria-label="Close cluster panel"
          onClick={props.onClose}
        >
          <Icon name="close" />
        </button>
      </div>
      {topology === null
        ? <p class="muted">{props.offline ? "No answer from the node yet." : "Asking the node…"}</p>
        : (
          <>
            <div class="cluster-totals">
              <div>
                <span class="total-value" data-testid="node-count">{alive.length}</span>
                <span class="total-label">{alive.length === 1 ? "node" : "nodes"}</span>
              </div>
              <div>
                <span class="total-value" data-testid="cluster-memory">
                  {formatMemoryMb(memory)}
                </span>
                <span class="total-label">memory</span>
              </div>
              <div>
                <span class="total-value">{tflops > 0 ? tflops.toFixed(1) : "—"}</span>
                <span class="total-label">TFLOPS</span>
              </div>
            </div>
            {props.offline
              ? <p class="partition-caption">As last seen, before the node stopped answering:</p>
              : topology.partition && (
                <p class="partition-caption">
                  {topology.partition.num_layers} layers of the chosen model, split by memory
                </p>
              )}
            <ul class={`node-list${props.offline ? " stale" : ""}`}>
              {sortNodes(topology).map((node) => (
                <NodeCard key={node.id} node={node} topology={topology} />
              ))}
            </ul>
          </>
        )}
      <h3 class="downloads-title">Downloads</h3>
      {running.length === 0 && failures.length === 0
        ? <p class="muted">No download running.</p>
        : (
          <ul class="download-list">
            {running.map((d) => (
              <li key={`${d.node_id}/${d.model}`} class="download" data-download-node={d.node_id}>
                <div class="download-head">
                  <span class="download-model">{props.modelName(d.model)}</span>
                  <span class="muted">{d.node_id}</span>
                </div>
                <span class="progress">
                  <span style={{ width: formatPercent(d.bytes, d.total_bytes, false) }} />
                </span>
                <div class="download-figures">
                  <span>{formatPercent(d.bytes, d.total_bytes, false)}</span>
                  <span>{formatBytes(d.bytes)} / {formatBytes(d.total_bytes)}</span>
                  <span>{formatSpeed(d.speed)}</span>
                  <span>{formatEta(d.eta)} left</span>
                </div>
              </li>
            ))}
            {failures.map((group) => (
              <li
                key={`${group.model}\n${group.error}`}
                class="download failed"
                data-download-failed={group.model}
              >
                <div class="download-head">
                  <span class="download-model">
                    <Icon name="alert" /> {props.modelName(group.model)}
                  </span>
                  <button
                    type="button"
                    class="icon-button small"
                    aria-label={`Dismiss the failed download of ${props.modelName(group.model)}`}
                    title="Dismiss"
                    onClick={() => props.onDismiss(group.events)}
                  >
                    <Icon name="close" />
                  </button>
                </div>
                <p class="download-where">
                  Failed on {group.events.map((e) => e.node_id).join(", ")}
                </p>
                <p class="download-failure">
                  <ErrorText text={group.error} />
                </p>
              </li>
            ))}
          </ul>
        )}
    </div>
  );
}

/** Failed downloads of one model with one reason: shown once, with the nodes it hit. */
interface FailureGroup {
  model: string;
  error: string;
  events: DownloadProgress[];
}

function failureGroups(failed: DownloadProgress[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const event of failed) {
    const error = event.error ?? "the download failed";
    const key = `${event.model}\n${error}`;
    const group = groups.get(key) ?? { model: event.model, error, events: [] };
    group.events.push(event);
    groups.set(key, group);
  }
  return [...groups.values()];
}

function sortNodes(topology: Topology): TopologyNode[] {
  const order = new Map(topology.partition?.shards.map((s, i) => [s.node_id, i]) ?? []);
  return [...topology.nodes].sort((a, b) =>
    (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity) || a.id.localeCompare(b.id)
  );
}

function NodeCard(props: { node: TopologyNode; topology: Topology }): JSX.Element {
  const { node, topology } = props;
  const self = node.id === topology.node_id;
  const shard = topology.partition?.shards.find((s) => s.node_id === node.id);
  const total = topology.partition?.num_layers ?? 0;
  const caps = node.capabilities;
  return (
    <li class={`node-card${node.alive ? "" : " down"}`} data-node={node.id}>
      <div class="node-head">
        <span class={`alive-dot${node.alive ? " up" : ""}`} aria-hidden="true" />
        <span class="node-id">{node.id}</span>
        {self && <span class="tag accent">this page</span>}
        <span class="node-state">
          {node.alive
            ? (self
              ? "serving"
              : node.rtt_ms === null
              ? "connected"
              : `${formatRtt(node.rtt_ms)} round trip`)
            : "unreachable"}
        </span>
      </div>
      <div class="node-specs">
        <span title={caps.model}>{caps.chip || "Unknown chip"}</span>
        <span>{formatMemoryMb(caps.memory)}</span>
        <span>{formatTflops(caps.flops.fp32)}</span>
      </div>
      {node.engine && <EngineLines engine={node.engine} />}
      {shard && total > 0 && (
        <div class="layer-bar" title={formatLayers(shard.start_layer, shard.end_layer, total)}>
          <span
            class="layer-fill"
            style={{
              left: `${(shard.start_layer / total) * 100}%`,
              width: `${((shard.end_layer - shard.start_layer + 1) / total) * 100}%`,
            }}
          />
        </div>
      )}
      <div class="node-layers" data-layers>
        {shard && total > 0
          ? formatLayers(shard.start_layer, shard.end_layer, total)
          : node.alive
          ? "no layers of this model"
          : "not in the split"}
      </div>
    </li>
  );
}

/** Where the node runs its shard; with auto, what it measured for each candidate. */
function EngineLines(props: { engine: TopologyEngine }): JSX.Element {
  const { text, warn } = engineSummary(props.engine);
  const auto = props.engine.auto ?? null;
  return (
    <>
      <div class={`node-engine${warn ? " warn" : ""}`} data-engine>{text}</div>
      {auto !== null && auto.candidates.length > 0 && (
        <table class="auto-candidates" data-candidates>
          <thead>
            <tr>
              <th scope="col">auto tried</th>
              <th scope="col">decode</th>
              <th scope="col">prompt</th>
            </tr>
          </thead>
          <tbody>
            {candidateRows(auto).map((row) => (
              <tr
                key={row.name}
                class={row.chosen ? "chosen" : row.out === null ? "" : "out"}
                data-candidate={row.name}
              >
                <th scope="row">
                  {row.name}
                  {row.chosen && <span class="chosen-mark" title="chosen by auto">✓</span>}
                </th>
                {row.out === null
                  ? (
                    <>
                      <td>{row.decode}</td>
                      <td>{row.prompt}</td>
                    </>
                  )
                  : <td colSpan={2} class="candidate-out">{row.out}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {auto !== null && (
        <div class="auto-notes" data-auto-notes>
          {autoFootnotes(auto, Date.now()).map((note) => <p key={note}>{note}</p>)}
        </div>
      )}
    </>
  );
}
