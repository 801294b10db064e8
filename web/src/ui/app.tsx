/**
 * The page: history on the left, the conversation in the middle, the cluster on the right.
 * It polls the node for models, downloads and topology, and hands chat to ChatSession.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import {
  ApiClient,
  type DownloadProgress,
  type ModelInfo,
  type Topology,
} from "../lib/api_client.ts";
import { NodeApiError } from "../lib/api_error.ts";
import { ChatSession } from "../lib/chat_session.ts";
import {
  type ChatSettings,
  type Conversation,
  DEFAULT_SETTINGS,
  HistoryStore,
} from "../lib/history_store.ts";
import { eventKey, type ModelStatus, modelStatuses } from "../lib/model_status.ts";
import { ModelWaiter } from "../lib/model_waiter.ts";
import { formatBytes, formatEta, formatPercent } from "../lib/format.ts";
import { ApiKeyDialog } from "./api_key_dialog.tsx";
import { ClusterPanel } from "./cluster_panel.tsx";
import { Composer } from "./composer.tsx";
import { ConfirmDialog } from "./dialog.tsx";
import { Icon } from "./icons.tsx";
import { MessageView } from "./message_view.tsx";
import { ModelPicker } from "./model_picker.tsx";
import { SettingsDialog } from "./settings_dialog.tsx";
import { Sidebar } from "./sidebar.tsx";
import { usePoll } from "./use_poll.ts";

const KEY_STORAGE = "exo-node.apiKey";
const WIDE = "(min-width: 1180px)";

/** A question the page is asking. */
type Prompt =
  | { kind: "download"; status: ModelStatus; then?: () => void }
  | { kind: "delete-model"; status: ModelStatus }
  | { kind: "delete-chat"; conversation: Conversation }
  | { kind: "clear" }
  | { kind: "settings" }
  | { kind: "api-key"; refused: string | null };

/** The whole page. */
export function App(): JSX.Element {
  const [apiKey, setApiKey] = useState(() => localStorage.getItem(KEY_STORAGE));
  const keyRef = useRef(apiKey);
  keyRef.current = apiKey;
  const client = useMemo(() => new ApiClient(location.origin, () => keyRef.current), []);
  const waiter = useMemo(() => new ModelWaiter(), []);
  const [, render] = useReducer((n: number) => n + 1, 0);
  const [problem, setProblem] = useState<{ title: string; message: string } | null>(null);
  const frame = useRef(0);
  const session = useMemo(() =>
    new ChatSession({
      client,
      store: new HistoryStore(localStorage),
      now: () => performance.now(),
      wallClock: () => Date.now(),
      newId: () => crypto.randomUUID(),
      waitForModel: (model, signal) => waiter.wait(model, signal),
      onChange: () => {
        if (frame.current === 0) {
          frame.current = requestAnimationFrame(() => {
            frame.current = 0;
            render(0);
          });
        }
      },
      onProblem: (error) => setProblem({ title: "Not saved", message: error.message }),
    }), []);

  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [progress, setProgress] = useState<DownloadProgress[]>([]);
  const [topology, setTopology] = useState<Topology | null>(null);
  const [nodeError, setNodeError] = useState<NodeApiError | null>(null);
  const [stale, setStale] = useState<ReadonlySet<string>>(new Set());
  const [draftModel, setDraftModel] = useState<string | null>(null);
  const [draftSettings, setDraftSettings] = useState<ChatSettings>({ ...DEFAULT_SETTINGS });
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [clusterOpen, setClusterOpen] = useState(() => matchMedia(WIDE).matches);
  const [fastProgressUntil, setFastProgressUntil] = useState(0);
  useEffect(() => {
    // The cluster panel sits beside the chat on a wide window and is a drawer otherwise.
    const wide = matchMedia(WIDE);
    const follow = () => setClusterOpen(wide.matches);
    wide.addEventListener("change", follow);
    return () => wide.removeEventListener("change", follow);
  }, []);

  const failed = (error: unknown) => {
    if (error instanceof NodeApiError && error.status === 401) {
      setPrompt((p) =>
        p?.kind === "api-key"
          ? p
          : { kind: "api-key", refused: keyRef.current ? error.message : null }
      );
    }
    // Only a lost node or a missing key concerns the whole page; other failures are shown
    // where they happened.
    if (error instanceof NodeApiError && (error.status === 0 || error.status === 401)) {
      setNodeError(error);
    }
  };

  const statuses = useMemo(
    () => models === null ? null : modelStatuses(models, progress, stale),
    [models, progress, stale],
  );
  useEffect(() => {
    if (statuses !== null) waiter.update(statuses);
  }, [statuses]);
  const downloading = statuses?.some((s) => s.state === "downloading") ?? false;

  const refreshModels = () =>
    client.models().then((list) => {
      setModels(list);
      setNodeError(null);
    }, failed);
  usePoll(refreshModels, downloading ? 2000 : 8000, [apiKey]);
  const fast = downloading || Date.now() < fastProgressUntil;
  usePoll(
    () => client.progress().then(setProgress, failed),
    fast ? 700 : 4000,
    [apiKey, fast],
  );
  const wasDownloading = useRef(false);
  useEffect(() => {
    if (wasDownloading.current && !downloading) refreshModels();
    wasDownloading.current = downloading;
  }, [downloading]);

  const conversation = session.current();
  const defaultModel = models?.find((m) => m.is_default)?.id ??
    models?.find((m) => m.available_locally)?.id ?? null;
  const selected = conversation?.model ?? draftModel ?? defaultModel;
  const settings = conversation?.settings ?? draftSettings;
  usePoll(
    () =>
      client.topology(selected).then((t) => {
        setTopology(t);
        setNodeError(null);
      }, failed),
    2000,
    [apiKey, selected],
  );

  const reply = session.reply();
  const busy = reply !== null;
  const statusOf = (id: string | null) => statuses?.find((s) => s.info.id === id);
  const nameOf = (id: string) => models?.find((m) => m.id === id)?.name ?? id;
  const selectedStatus = statusOf(selected);

  const startDownload = (status: ModelStatus) => {
    setFastProgressUntil(Date.now() + 15_000);
    client.download(status.info.id).then(
      () => client.progress().then(setProgress, failed),
      (error) => {
        failed(error);
        setProblem({
          title: `Cannot download ${status.info.name}`,
          message: error instanceof Error ? error.message : String(error),
        });
      },
    );
  };

  const send = (text: string): boolean => {
    if (selected === null) return false;
    const go = () => {
      session.send(text, selected, settings);
      setSidebarOpen(false);
    };
    if (selectedStatus?.state === "absent" || selectedStatus?.state === "failed") {
      setPrompt({ kind: "download", status: selectedStatus, then: go });
      return true;
    }
    go();
    return true;
  };

  const chooseModel = (status: ModelStatus) => {
    if (conversation !== null) session.setModel(status.info.id);
    else setDraftModel(status.info.id);
    if (status.state === "absent" || status.state === "failed") {
      setPrompt({ kind: "download", status });
    }
  };

  const waitingFor = (() => {
    if (reply?.phase !== "waiting") return null;
    const status = statusOf(reply.model);
    const name = nameOf(reply.model);
    if (status?.state === "downloading") {
      return `Waiting for ${name} to download: ${
        formatPercent(status.bytes, status.totalBytes, false)
      }, ${formatEta(status.eta)} left. Your message goes as soon as it is ready.`;
    }
    return `Waiting for ${name} to download. Your message goes as soon as it is ready.`;
  })();

  const messages = conversation?.messages ?? [];
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => {
    pinned.current = true;
  }, [conversation?.id]);

  const aliveCount = topology?.nodes.filter((n) => n.alive).length ?? 0;
  const lastAssistant = [...messages].reverse().find((m) => m.role === "assistant");
  const blocked = selected === null
    ? models === null ? "Connecting to the node…" : "Choose a model to start"
    : null;

  return (
    <div class={`app${sidebarOpen ? " sidebar-open" : ""}${clusterOpen ? " cluster-open" : ""}`}>
      <aside class="sidebar">
        <Sidebar
          conversations={session.conversations()}
          currentId={conversation?.id ?? null}
          busyId={reply?.conversationId ?? null}
          now={Date.now()}
          onNew={() => {
            session.newChat();
            setDraftModel(selected);
            setDraftSettings({ ...settings });
            setSidebarOpen(false);
          }}
          onOpen={(id) => {
            session.open(id);
            setSidebarOpen(false);
          }}
          onDelete={(c) =>
            setPrompt({ kind: "delete-chat", conversation: c })}
          onClear={() => setPrompt({ kind: "clear" })}
        />
      </aside>
      <div
        class="scrim"
        onClick={() => {
          setSidebarOpen(false);
          if (!matchMedia(WIDE).matches) setClusterOpen(false);
        }}
      />
      <main class="main">
        <header class="topbar">
          <button
            type="button"
            class="icon-button menu-button"
            aria-label="Conversations"
            onClick={() => setSidebarOpen(true)}
          >
            <Icon name="menu" />
          </button>
          <ModelPicker
            statuses={statuses}
            selected={selected}
            onSelect={chooseModel}
            onDownload={(status) => setPrompt({ kind: "download", status })}
            onDelete={(status) => setPrompt({ kind: "delete-model", status })}
          />
          <span class="spacer" />
          <button
            type="button"
            class={`cluster-pill${nodeError === null ? "" : " offline"}`}
            title="Show the cluster"
            onClick={() => setClusterOpen(!clusterOpen)}
          >
            <span class={`alive-dot${nodeError === null ? " up" : ""}`} aria-hidden="true" />
            {nodeError?.status === 0
              ? "node offline"
              : nodeError?.status === 401
              ? "API key needed"
              : `${aliveCount} ${aliveCount === 1 ? "node" : "nodes"}`}
          </button>
          <button
            type="button"
            class="icon-button"
            aria-label="Conversation settings"
            title="Settings"
            onClick={() => setPrompt({ kind: "settings" })}
          >
            <Icon name="gear" />
          </button>
        </header>
        {nodeError?.status === 0 && (
          <div class="banner" role="alert">
            <Icon name="alert" /> {nodeError.message} Retrying…
          </div>
        )}
        {problem && (
          <div class="banner" role="alert">
            <Icon name="alert" />
            <span>
              <strong>{problem.title}.</strong> {problem.message}
            </span>
            <button
              type="button"
              class="icon-button small"
              aria-label="Dismiss"
              onClick={() => setProblem(null)}
            >
              <Icon name="close" />
            </button>
          </div>
        )}
        <div
          class="conversation"
          ref={scroller}
          onScroll={(e) => {
            const el = e.currentTarget;
            pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
        >
          {messages.length === 0
            ? (
              <Welcome
                model={selected === null ? null : nameOf(selected)}
                status={selectedStatus}
                nodes={topology?.nodes.filter((n) => n.alive).map((n) =>
                  n.id
                ) ?? []}
                onPick={(text) => send(text)}
              />
            )
            : (
              <div class="messages" data-testid="messages">
                {messages.map((m) => (
                  <MessageView
                    key={m.id}
                    message={m}
                    modelName={nameOf(m.model ?? selected ?? "")}
                    live={reply?.messageId === m.id ? reply.phase : null}
                    waitingFor={reply?.messageId === m.id ? waitingFor : null}
                    idle={!busy}
                    last={m === lastAssistant}
                    onEdit={(id, text) => session.editAndRegenerate(id, text)}
                    onRegenerate={() => session.regenerate()}
                  />
                ))}
              </div>
            )}
        </div>
        <Composer
          busy={busy}
          blocked={blocked}
          hint={`Enter to send · Shift+Enter for a new line${
            selectedStatus?.state === "downloading" ? " · the message waits for the download" : ""
          }`}
          onSend={send}
          onStop={() => session.stop()}
        />
      </main>
      <aside class="cluster" aria-label="Cluster">
        <ClusterPanel
          topology={topology}
          error={nodeError?.status === 0 ? nodeError : null}
          downloads={progress.filter((d) => !stale.has(eventKey(d)))}
          modelName={nameOf}
          onClose={() => setClusterOpen(false)}
        />
      </aside>
      {prompt && renderPrompt(prompt)}
    </div>
  );

  function renderPrompt(p: Prompt): JSX.Element {
    const close = () => setPrompt(null);
    switch (p.kind) {
      case "download":
        return (
          <ConfirmDialog
            name="download"
            title={`Download ${p.status.info.name}?`}
            confirm={p.then ? "Download and send" : "Download"}
            onConfirm={() => {
              startDownload(p.status);
              if (conversation !== null) session.setModel(p.status.info.id);
              else setDraftModel(p.status.info.id);
              p.then?.();
            }}
            onClose={close}
          >
            <p>
              It is not on the cluster yet. Each node fetches only the layers it runs
              {topology ? `, across ${aliveCount} ${aliveCount === 1 ? "node" : "nodes"}` : ""}.
              {p.then ? " Your message is sent as soon as the download is done." : ""}
            </p>
            {p.status.error && <p class="invalid">Last attempt: {p.status.error}</p>}
          </ConfirmDialog>
        );
      case "delete-model": {
        const bytes = p.status.info.local_bytes ?? 0;
        return (
          <ConfirmDialog
            name="delete-model"
            title={`Delete ${p.status.info.name}?`}
            confirm={`Delete ${formatBytes(bytes)}`}
            danger
            onConfirm={() => {
              setStale(new Set([...stale, ...p.status.downloads.map(eventKey)]));
              client.remove(p.status.info.id).then(refreshModels, (error) => {
                failed(error);
                setProblem({
                  title: `Cannot delete ${p.status.info.name}`,
                  message: error.message,
                });
              });
            }}
            onClose={close}
          >
            <p>
              This frees <strong>{formatBytes(bytes)}</strong> on node{" "}
              <strong>{topology?.node_id ?? "this node"}</strong>. Other nodes keep their layers; it
              can be downloaded again later.
            </p>
          </ConfirmDialog>
        );
      }
      case "delete-chat":
        return (
          <ConfirmDialog
            name="delete-chat"
            title="Delete this conversation?"
            confirm="Delete"
            danger
            onConfirm={() => session.delete(p.conversation.id)}
            onClose={close}
          >
            <p>“{p.conversation.title}” is removed from this browser.</p>
          </ConfirmDialog>
        );
      case "clear":
        return (
          <ConfirmDialog
            name="clear"
            title="Clear all conversations?"
            confirm="Clear all"
            danger
            onConfirm={() => session.clear()}
            onClose={close}
          >
            <p>All {session.conversations().length} conversations are removed from this browser.</p>
          </ConfirmDialog>
        );
      case "settings":
        return (
          <SettingsDialog
            settings={settings}
            maxTokensCap={null}
            onSave={(next) =>
              conversation === null ? setDraftSettings(next) : session.setSettings(next)}
            onClose={close}
          />
        );
      case "api-key":
        return (
          <ApiKeyDialog
            refused={p.refused}
            onSave={(key) => {
              localStorage.setItem(KEY_STORAGE, key);
              setApiKey(key);
              setNodeError(null);
            }}
            onClose={close}
          />
        );
    }
  }
}

const SUGGESTIONS = [
  "Explain pipeline parallelism in two paragraphs",
  "Write a haiku about two Macs sharing one model",
  "Show a Python function that merges sorted lists",
];

function Welcome(props: {
  model: string | null;
  status: ModelStatus | undefined;
  nodes: string[];
  onPick(text: string): void;
}): JSX.Element {
  const where = props.nodes.length === 0
    ? "your cluster"
    : props.nodes.length === 1
    ? `node ${props.nodes[0]}`
    : `${props.nodes.length} nodes: ${props.nodes.join(", ")}`;
  return (
    <div class="welcome">
      <h1>{props.model === null ? "Choose a model to begin" : `Chat with ${props.model}`}</h1>
      <p class="muted">
        {props.model === null
          ? "Pick a model above; one that is not downloaded yet is fetched layer by layer across the cluster."
          : props.status?.state === "downloading"
          ? `It is downloading now. Messages you send wait for it, on ${where}.`
          : `Running on ${where}. Each node holds a slice of the model's layers.`}
      </p>
      {props.model !== null && (
        <div class="suggestions">
          {SUGGESTIONS.map((text) => (
            <button
              type="button"
              class="suggestion"
              onClick={() => props.onPick(text)}
            >
              {text}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
