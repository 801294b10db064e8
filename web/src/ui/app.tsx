/**
 * The page: history on the left, the conversation in the middle, the cluster on the right.
 * It polls the node's topology, takes models and downloads from useClusterModels, and hands
 * chat to ChatSession.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { ApiClient, type Topology } from "../lib/api_client.ts";
import { NodeApiError } from "../lib/api_error.ts";
import { ChatSession } from "../lib/chat_session.ts";
import {
  type ChatSettings,
  type Conversation,
  DEFAULT_MAX_TOKENS,
  DEFAULT_SETTINGS,
  HistoryStore,
} from "../lib/history_store.ts";
import { clusterMemoryBytes, memoryFit, type ModelStatus } from "../lib/model_status.ts";
import { ModelWaiter } from "../lib/model_waiter.ts";
import { formatBytes, formatEta, formatPercent } from "../lib/format.ts";
import { ApiKeyDialog } from "./api_key_dialog.tsx";
import { ClusterPanel } from "./cluster_panel.tsx";
import { Composer } from "./composer.tsx";
import { ConfirmDialog } from "./dialog.tsx";
import { DownloadDialog } from "./download_dialog.tsx";
import { ErrorText } from "./error_text.tsx";
import { Icon } from "./icons.tsx";
import { MessageView } from "./message_view.tsx";
import { ModelPicker } from "./model_picker.tsx";
import { SettingsDialog } from "./settings_dialog.tsx";
import { Sidebar } from "./sidebar.tsx";
import { useClusterModels } from "./use_cluster_models.ts";
import { usePoll } from "./use_poll.ts";
import { Welcome } from "./welcome.tsx";

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

  const [topology, setTopology] = useState<Topology | null>(null);
  const [nodeError, setNodeError] = useState<NodeApiError | null>(null);
  const [draftModel, setDraftModel] = useState<string | null>(null);
  const [draftSettings, setDraftSettings] = useState<ChatSettings>({ ...DEFAULT_SETTINGS });
  const [draft, setDraft] = useState("");
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [pickerOpen, setPickerOpen] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [clusterOpen, setClusterOpen] = useState(() => matchMedia(WIDE).matches);
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

  const { models, statuses, downloads, download, forget, refreshModels } = useClusterModels({
    client,
    apiKey,
    waiter,
    failed,
    answered: () => setNodeError(null),
  });

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
  const clusterBytes = clusterMemoryBytes(topology);
  const aliveCount = topology?.nodes.filter((n) => n.alive).length ?? 0;

  const pickModel = (id: string) => {
    if (conversation !== null) session.setModel(id);
    else setDraftModel(id);
  };

  const startDownload = async (status: ModelStatus): Promise<void> => {
    await download(status);
    pickModel(status.info.id);
  };

  const send = (text: string): void => {
    if (selected === null) return;
    const go = () => {
      session.send(text, selected, settings);
      setDraft((current) => current === text ? "" : current);
      setSidebarOpen(false);
    };
    if (selectedStatus?.state === "absent" || selectedStatus?.state === "failed") {
      setPrompt({ kind: "download", status: selectedStatus, then: go });
      return;
    }
    go();
  };

  const chooseModel = (status: ModelStatus) => {
    pickModel(status.info.id);
    if (status.state === "absent" || status.state === "failed") {
      setPrompt({ kind: "download", status });
    }
  };

  /** Answers the last message again; a model that is not here is offered for download. */
  const retryModel = () => {
    const model = conversation?.model ?? selected;
    const status = statusOf(model);
    if (status?.state === "absent" || status?.state === "failed") {
      setPrompt({ kind: "download", status, then: () => session.regenerate() });
    } else {
      session.regenerate();
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
  const lastTop = useRef(0);
  useEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => {
    pinned.current = true;
  }, [conversation?.id]);

  const lastAssistant = [...messages].reverse().find((m) => m.role === "assistant");
  const blocked = selected === null
    ? models === null ? "Connecting to the node…" : "Choose a model to start"
    : null;
  const offline = nodeError?.status === 0;

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
            clusterBytes={clusterBytes}
            open={pickerOpen}
            onOpenChange={setPickerOpen}
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
            {offline
              ? "offline"
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
        {offline && (
          <div class="banner" role="alert" data-banner="offline">
            <Icon name="alert" />
            <span>
              <strong>The node is not answering.</strong> <ErrorText text={nodeError.message} />
              {" "}
              Retrying…
            </span>
          </div>
        )}
        {problem && (
          <div class="banner" role="alert">
            <Icon name="alert" />
            <span>
              <strong>{problem.title}.</strong> <ErrorText text={problem.message} />
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
            // A smooth scroll to the end passes positions far from it: only a move up (the
            // reader going back) stops the conversation from following new text.
            if (el.scrollHeight - el.scrollTop - el.clientHeight < 80) pinned.current = true;
            else if (el.scrollTop < lastTop.current) pinned.current = false;
            lastTop.current = el.scrollTop;
          }}
        >
          {messages.length === 0
            ? (
              <Welcome
                model={selected === null ? null : nameOf(selected)}
                status={selectedStatus}
                nodes={topology?.nodes.filter((n) => n.alive).map((n) => n.id) ?? []}
                onPick={send}
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
                    onRetryModel={retryModel}
                    onChooseModel={() => setPickerOpen(true)}
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
          text={draft}
          onText={setDraft}
          onSend={send}
          onStop={() => session.stop()}
        />
      </main>
      <aside class="cluster" aria-label="Cluster">
        <ClusterPanel
          topology={topology}
          offline={offline}
          downloads={downloads}
          hideFailuresOf={prompt?.kind === "download" ? prompt.status.info.id : null}
          modelName={nameOf}
          onDismiss={forget}
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
          <DownloadDialog
            // A new question (another model, or a retry from a reply) starts fresh.
            key={`${p.status.info.id}/${p.then === undefined}`}
            status={statusOf(p.status.info.id) ?? p.status}
            fit={memoryFit(p.status.info, clusterBytes)}
            nodes={topology === null ? null : aliveCount}
            sendAfter={p.then !== undefined}
            onDownload={() => startDownload(statusOf(p.status.info.id) ?? p.status)}
            onStarted={() => p.then?.()}
            onChooseAnother={() => setPickerOpen(true)}
            onClose={close}
          />
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
              forget(p.status.downloads);
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
            defaultMaxTokens={DEFAULT_MAX_TOKENS}
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
