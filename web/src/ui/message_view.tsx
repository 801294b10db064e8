/**
 * One message of the conversation: the user's (plain text, editable) or the model's
 * (Markdown, with its figures, copy and regenerate).
 * @module
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { StoredMessage } from "../lib/history_store.ts";
import type { ReplyStats } from "../lib/chat_stream.ts";
import { isModelFetchFailure } from "../lib/api_error.ts";
import { formatMs, formatTokensPerSecond } from "../lib/format.ts";
import { Icon } from "./icons.tsx";
import { ErrorText } from "./error_text.tsx";
import { MarkdownView } from "./markdown_view.tsx";
import { copyText } from "./copy_text.ts";

/** What a message shows while its reply is being generated. */
export type LivePhase = "waiting" | "sending" | "streaming" | null;

/** Props of {@linkcode MessageView}. */
export interface MessageViewProps {
  message: StoredMessage;
  /** The name of the model that wrote it. */
  modelName: string;
  /** Set on the reply in flight. */
  live: LivePhase;
  /** What the reply waits for, e.g. "Llama 3.2 1B is downloading: 42%". */
  waitingFor: string | null;
  /** Whether actions (edit, regenerate) are possible now. */
  idle: boolean;
  /** The last reply of the conversation can be regenerated. */
  last: boolean;
  onEdit(id: string, text: string): void;
  onRegenerate(): void;
  /** Fetches the reply's model again and answers again (a model that could not be had). */
  onRetryModel(): void;
  /** Opens the model picker. */
  onChooseModel(): void;
}

/** One message. */
export function MessageView(props: MessageViewProps): JSX.Element {
  return props.message.role === "user" ? <UserMessage {...props} /> : <Reply {...props} />;
}

function UserMessage(props: MessageViewProps): JSX.Element {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(props.message.content);
  if (editing) {
    const save = () => {
      setEditing(false);
      props.onEdit(props.message.id, draft);
    };
    return (
      <div class="message user editing" data-role="user">
        <textarea
          class="edit-box"
          value={draft}
          rows={Math.min(12, Math.max(2, draft.split("\n").length))}
          aria-label="Edit your message"
          onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              save();
            } else if (e.key === "Escape") setEditing(false);
          }}
        />
        <div class="edit-actions">
          <button type="button" class="button ghost" onClick={() => setEditing(false)}>
            Cancel
          </button>
          <button
            type="button"
            class="button primary"
            disabled={draft.trim() === ""}
            onClick={save}
          >
            Save and regenerate
          </button>
        </div>
      </div>
    );
  }
  return (
    <div class="message user" data-role="user">
      <div class="bubble">{props.message.content}</div>
      <div class="message-actions">
        <button
          type="button"
          class="icon-button small"
          title="Edit and regenerate"
          aria-label="Edit message"
          disabled={!props.idle}
          onClick={() => {
            setDraft(props.message.content);
            setEditing(true);
          }}
        >
          <Icon name="edit" />
        </button>
      </div>
    </div>
  );
}

function Reply(props: MessageViewProps): JSX.Element {
  const { message, live } = props;
  const [copied, setCopied] = useState(false);
  const empty = message.content === "";
  return (
    <div class="message assistant" data-role="assistant" aria-busy={live !== null}>
      <div class="reply-head">
        <span class="avatar" aria-hidden="true">exo</span>
        <span class="reply-model">{props.modelName}</span>
      </div>
      {live !== null && empty
        ? <LiveStatus phase={live} waitingFor={props.waitingFor} />
        : !empty && <MarkdownView text={message.content} streaming={live === "streaming"} />}
      {message.error && (
        <div class="reply-error" role="alert">
          <Icon name="alert" />
          <div>
            <strong>{message.error.title}</strong>
            <p>
              <ErrorText text={message.error.message} />
            </p>
            {props.last && props.idle && isModelFetchFailure(message.error.code) && (
              <div class="reply-error-actions">
                <button type="button" class="button small primary" onClick={props.onRetryModel}>
                  Retry
                </button>
                <button type="button" class="button small ghost" onClick={props.onChooseModel}>
                  Choose another model
                </button>
              </div>
            )}
          </div>
        </div>
      )}
      {live === null && (
        <div class="reply-foot">
          {message.stats && <Stats stats={message.stats} />}
          <div class="reply-actions">
            {!empty && (
              <button
                type="button"
                class="icon-button small"
                title="Copy the reply"
                aria-label="Copy reply"
                onClick={async () => {
                  setCopied(await copyText(message.content));
                  setTimeout(() => setCopied(false), 1500);
                }}
              >
                <Icon name={copied ? "check" : "copy"} />
              </button>
            )}
            {props.last && (
              <button
                type="button"
                class="icon-button small"
                title="Regenerate"
                aria-label="Regenerate reply"
                disabled={!props.idle}
                onClick={props.onRegenerate}
              >
                <Icon name="refresh" />
              </button>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function LiveStatus(props: { phase: LivePhase; waitingFor: string | null }): JSX.Element {
  const text = props.phase === "waiting" && props.waitingFor !== null
    ? props.waitingFor
    : "Thinking";
  return (
    <div class="live-status" role="status">
      <span class="dots" aria-hidden="true">
        <i />
        <i />
        <i />
      </span>
      <span>{text}</span>
    </div>
  );
}

const FINISH_TEXT: Readonly<Record<string, string>> = {
  stop: "finished",
  length: "hit the token limit",
  stopped: "stopped by you",
  error: "failed",
};

function Stats(props: { stats: ReplyStats }): JSX.Element {
  const s = props.stats;
  const reason = s.finishReason === null ? null : FINISH_TEXT[s.finishReason] ?? s.finishReason;
  return (
    <dl class="stats" aria-label="Reply figures">
      <div title="Time to first token">
        <dt>first token</dt>
        <dd data-stat="ttft">{formatMs(s.ttftMs)}</dd>
      </div>
      <div title="Tokens per second after the first">
        <dt>speed</dt>
        <dd data-stat="rate">{formatTokensPerSecond(s.tokensPerSecond)}</dd>
      </div>
      <div title="Tokens generated">
        <dt>tokens</dt>
        <dd data-stat="tokens">{s.completionTokens ?? "—"}</dd>
      </div>
      <div title={`finish_reason: ${s.finishReason ?? "none"}`}>
        <dt>finish</dt>
        <dd data-stat="finish" data-reason={s.finishReason ?? ""}>{reason ?? "—"}</dd>
      </div>
    </dl>
  );
}
