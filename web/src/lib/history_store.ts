/**
 * Conversations kept in the browser (localStorage), newest first. Reads survive anything
 * the storage may hold (another version's data, a hand edit); a full storage is an error
 * the page shows.
 * @module
 */
import type { ReplyStats } from "./chat_stream.ts";

/** The part of the Web Storage API the store uses (localStorage, or a map in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** One message of a conversation. */
export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
  /** The model that wrote an assistant message. */
  model?: string;
  stats?: ReplyStats;
  /** Why the reply failed, shown instead of (or after) its text. */
  error?: ReplyError;
  /** Set while the reply streams; a reply still marked after a reload was cut off. */
  pending?: true;
}

/** Why a reply failed, as the page shows it. */
export interface ReplyError {
  title: string;
  message: string;
  /** The API's error code (`hub_unreachable`), when it gave one. */
  code?: string;
}

/**
 * The longest reply when a conversation sets none, in tokens: about 750 English words,
 * more than nearly every chat answer, while a model that never stops (a small or
 * random-weight one) ends within a minute at 20-40 tokens/s instead of running to the
 * node's `--max-generate-tokens` (10,000 by default: 4,076 tokens and 90 s seen with the
 * demo model).
 */
export const DEFAULT_MAX_TOKENS = 1024;

/** Settings sent with every request of a conversation. */
export interface ChatSettings {
  systemPrompt: string;
  /** null: the model's default. */
  temperature: number | null;
  /** null: {@linkcode DEFAULT_MAX_TOKENS} (the node still caps it). */
  maxTokens: number | null;
}

/** One conversation. */
export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  model: string | null;
  settings: ChatSettings;
  messages: StoredMessage[];
}

/** The settings of a new conversation. */
export const DEFAULT_SETTINGS: ChatSettings = {
  systemPrompt: "",
  temperature: null,
  maxTokens: null,
};

const KEY = "exo-node.conversations.v1";
const CURRENT_KEY = "exo-node.current.v1";
const TITLE_LENGTH = 60;

/** Raised when the browser refuses to store more. */
export class HistoryFullError extends Error {
  /** Creates the error, keeping the browser's as the cause. */
  constructor(cause: unknown) {
    super(
      "Cannot save the conversation: the browser's storage for this page is full; delete old conversations",
      { cause },
    );
    this.name = "HistoryFullError";
  }
}

/** The conversation list over a key-value storage. */
export class HistoryStore {
  #storage: KeyValueStorage;
  #conversations: Conversation[];

  /** Loads what `storage` holds; unreadable entries are left out. */
  constructor(storage: KeyValueStorage) {
    this.#storage = storage;
    this.#conversations = readAll(storage.getItem(KEY));
  }

  /** Every conversation, most recently updated first. */
  list(): Conversation[] {
    return [...this.#conversations].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** One conversation by id. */
  get(id: string): Conversation | undefined {
    return this.#conversations.find((c) => c.id === id);
  }

  /** Saves a conversation (new or changed). @throws {HistoryFullError} */
  save(conversation: Conversation): void {
    const next = this.#conversations.filter((c) => c.id !== conversation.id);
    next.push(conversation);
    this.#write(next);
  }

  /** Deletes one conversation. */
  delete(id: string): void {
    this.#write(this.#conversations.filter((c) => c.id !== id));
    if (this.currentId() === id) this.setCurrentId(null);
  }

  /** Deletes every conversation. */
  clear(): void {
    this.#write([]);
    this.setCurrentId(null);
  }

  /** The conversation open when the page was last used. */
  currentId(): string | null {
    const id = this.#storage.getItem(CURRENT_KEY);
    return id !== null && this.get(id) !== undefined ? id : null;
  }

  /** Remembers the open conversation. */
  setCurrentId(id: string | null): void {
    if (id === null) this.#storage.removeItem(CURRENT_KEY);
    else this.#storage.setItem(CURRENT_KEY, id);
  }

  #write(conversations: Conversation[]): void {
    try {
      this.#storage.setItem(KEY, JSON.stringify(conversations));
    } catch (error) {
      throw new HistoryFullError(error);
    }
    this.#conversations = conversations;
  }
}

/** A new, empty conversation. */
export function newConversation(id: string, now: number, model: string | null): Conversation {
  return {
    id,
    title: "New chat",
    createdAt: now,
    updatedAt: now,
    model,
    settings: { ...DEFAULT_SETTINGS },
    messages: [],
  };
}

/** A conversation's title from its first message: one line, cut at a word. */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line === "") return "New chat";
  if (line.length <= TITLE_LENGTH) return line;
  const cut = line.slice(0, TITLE_LENGTH);
  const space = cut.lastIndexOf(" ");
  return `${space > TITLE_LENGTH / 2 ? cut.slice(0, space) : cut}…`;
}

function readAll(json: string | null): Conversation[] {
  if (json === null) return [];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [];
  }
  return Array.isArray(value) ? value.flatMap((entry) => readConversation(entry) ?? []) : [];
}

function readConversation(value: unknown): Conversation | null {
  if (!isObject(value)) return null;
  const { id, title, createdAt, updatedAt, model, settings, messages } = value;
  if (typeof id !== "string" || !Array.isArray(messages)) return null;
  const time = (t: unknown) => typeof t === "number" && Number.isFinite(t) ? t : 0;
  return {
    id,
    title: typeof title === "string" ? title : "New chat",
    createdAt: time(createdAt),
    updatedAt: time(updatedAt ?? createdAt),
    model: typeof model === "string" ? model : null,
    settings: readSettings(settings),
    messages: messages.flatMap((m) => readMessage(m) ?? []),
  };
}

function readSettings(value: unknown): ChatSettings {
  if (!isObject(value)) return { ...DEFAULT_SETTINGS };
  const number = (n: unknown) => typeof n === "number" && Number.isFinite(n) ? n : null;
  return {
    systemPrompt: typeof value.systemPrompt === "string" ? value.systemPrompt : "",
    temperature: number(value.temperature),
    maxTokens: number(value.maxTokens),
  };
}

function readMessage(value: unknown): StoredMessage | null {
  if (!isObject(value)) return null;
  const { id, role, content } = value;
  if (typeof id !== "string" || typeof content !== "string") return null;
  if (role !== "user" && role !== "assistant") return null;
  const message: StoredMessage = { id, role, content };
  if (typeof value.model === "string") message.model = value.model;
  if (value.pending === true) message.pending = true;
  if (isObject(value.stats)) message.stats = readStats(value.stats);
  if (
    isObject(value.error) && typeof value.error.title === "string" &&
    typeof value.error.message === "string"
  ) {
    message.error = { title: value.error.title, message: value.error.message };
    if (typeof value.error.code === "string") message.error.code = value.error.code;
  }
  return message;
}

function readStats(value: Record<string, unknown>): ReplyStats {
  const number = (n: unknown) => typeof n === "number" && Number.isFinite(n) ? n : null;
  return {
    ttftMs: number(value.ttftMs),
    tokensPerSecond: number(value.tokensPerSecond),
    completionTokens: number(value.completionTokens),
    promptTokens: number(value.promptTokens),
    finishReason: typeof value.finishReason === "string" ? value.finishReason : null,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
