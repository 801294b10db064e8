/**
 * The conversation history: newest first, open, delete one, clear all.
 * @module
 */
import type { JSX } from "preact";
import type { Conversation } from "../lib/history_store.ts";
import { formatWhen } from "../lib/format.ts";
import { Icon } from "./icons.tsx";

/** Props of {@linkcode Sidebar}. */
export interface SidebarProps {
  conversations: Conversation[];
  currentId: string | null;
  busyId: string | null;
  now: number;
  onNew(): void;
  onOpen(id: string): void;
  onDelete(conversation: Conversation): void;
  onClear(): void;
}

/** The history list. */
export function Sidebar(props: SidebarProps): JSX.Element {
  return (
    <nav class="sidebar-inner" aria-label="Conversations">
      <div class="brand">
        <span class="logo" aria-hidden="true">
          <svg viewBox="0 0 32 32">
            <circle cx="10" cy="16" r="5" />
            <circle cx="22" cy="10" r="4" />
            <circle cx="22" cy="23" r="4" />
            <path d="M14.5 14l4-2.5M14.5 18l4 3" />
          </svg>
        </span>
        <span class="brand-name">exo</span>
        <span class="brand-sub">node</span>
      </div>
      <button type="button" class="button primary new-chat" onClick={props.onNew}>
        <Icon name="plus" /> New chat
      </button>
      <ul class="history" data-testid="history">
        {props.conversations.length === 0 && (
          <li class="history-empty">Your conversations appear here.</li>
        )}
        {props.conversations.map((c) => (
          <li
            key={c.id}
            class={`history-item${c.id === props.currentId ? " current" : ""}`}
            data-conversation={c.id}
          >
            <button type="button" class="history-open" onClick={() => props.onOpen(c.id)}>
              <span class="history-title">{c.title}</span>
              <span class="history-when">
                {c.id === props.busyId ? "answering…" : formatWhen(c.updatedAt, props.now)}
              </span>
            </button>
            <button
              type="button"
              class="icon-button small history-delete"
              aria-label={`Delete conversation ${c.title}`}
              title="Delete"
              onClick={() => props.onDelete(c)}
            >
              <Icon name="trash" />
            </button>
          </li>
        ))}
      </ul>
      {props.conversations.length > 0 && (
        <button type="button" class="button ghost clear-all" onClick={props.onClear}>
          Clear all conversations
        </button>
      )}
    </nav>
  );
}
