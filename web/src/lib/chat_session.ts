/**
 * The conversations of the page and the one reply in flight: sends a conversation to the
 * node, streams the reply into it, stops it, edits and regenerates. No DOM: the page
 * renders what it holds and calls its methods; tests drive it with a fake fetch.
 * @module
 */
import type { ApiClient, ApiMessage, ChatRequest } from "./api_client.ts";
import { NodeApiError } from "./api_error.ts";
import { readChatStream, type ReplyStats, replyStats, type Usage } from "./chat_stream.ts";
import {
  type ChatSettings,
  type Conversation,
  DEFAULT_MAX_TOKENS,
  HistoryFullError,
  type HistoryStore,
  newConversation,
  type ReplyError,
  type StoredMessage,
  titleFrom,
} from "./history_store.ts";

/** What the session needs from the page. */
export interface ChatSessionDeps {
  client: ApiClient;
  store: HistoryStore;
  /** A clock in ms (`performance.now()` in the page). */
  now(): number;
  /** Wall-clock ms for conversation times (`Date.now()`). */
  wallClock(): number;
  newId(): string;
  /**
   * Resolves once `model` can serve (its download is done); rejects with the reason it
   * cannot. Aborted with the reply when the user stops it.
   */
  waitForModel(model: string, signal: AbortSignal): Promise<void>;
  /** Called after every change the page should show. */
  onChange(): void;
  /** Called with a failure that belongs to no reply (e.g. the storage is full). */
  onProblem(error: Error): void;
}

/** The reply being generated. */
export interface ReplyInFlight {
  conversationId: string;
  messageId: string;
  /** waiting: for the model's download; sending: before the first text; streaming: text arrives. */
  phase: "waiting" | "sending" | "streaming";
  model: string;
}

const SAVE_EVERY_MS = 1000;

/** The conversations and the reply in flight. */
export class ChatSession {
  #deps: ChatSessionDeps;
  #currentId: string | null;
  #reply: ReplyInFlight | null = null;
  #abort: AbortController | null = null;
  #lastSave = 0;

  /** Opens the store; a reply cut off by a reload is marked as interrupted. */
  constructor(deps: ChatSessionDeps) {
    this.#deps = deps;
    for (const conversation of deps.store.list()) {
      const cut = conversation.messages.filter((m) => m.role === "assistant" && m.pending);
      if (cut.length === 0) continue;
      for (const message of cut) {
        delete message.pending;
        message.error = {
          title: "Reply interrupted",
          message: "The page was closed or reloaded while this reply was being written.",
        };
      }
      this.#save(conversation);
    }
    this.#currentId = deps.store.currentId();
  }

  /** Every conversation, newest first. */
  conversations(): Conversation[] {
    return this.#deps.store.list();
  }

  /** The open conversation; null before the first message of a new chat. */
  current(): Conversation | null {
    return this.#currentId === null ? null : this.#deps.store.get(this.#currentId) ?? null;
  }

  /** The reply being generated, if any. */
  reply(): ReplyInFlight | null {
    return this.#reply;
  }

  /** Opens a conversation. */
  open(id: string): void {
    if (this.#deps.store.get(id) === undefined) return;
    this.#currentId = id;
    this.#deps.store.setCurrentId(id);
    this.#deps.onChange();
  }

  /** Starts a new, empty conversation (kept only once it has a message). */
  newChat(): void {
    this.#currentId = null;
    this.#deps.store.setCurrentId(null);
    this.#deps.onChange();
  }

  /** Deletes a conversation, stopping its reply. */
  delete(id: string): void {
    if (this.#reply?.conversationId === id) this.stop();
    this.#deps.store.delete(id);
    if (this.#currentId === id) this.#currentId = null;
    this.#deps.onChange();
  }

  /** Deletes every conversation. */
  clear(): void {
    this.stop();
    this.#deps.store.clear();
    this.#currentId = null;
    this.#deps.onChange();
  }

  /** Sets the open conversation's model. */
  setModel(model: string): void {
    const conversation = this.current();
    if (conversation === null) return;
    conversation.model = model;
    this.#save(conversation);
    this.#deps.onChange();
  }

  /** Changes the open conversation's settings. */
  setSettings(settings: ChatSettings): void {
    const conversation = this.current();
    if (conversation === null) return;
    conversation.settings = settings;
    this.#save(conversation);
    this.#deps.onChange();
  }

  /**
   * Sends `text` as the next user message of the open conversation (a new one when none
   * is open) to `model` and streams the reply. Resolves when the reply ends, however.
   */
  async send(text: string, model: string, settings: ChatSettings): Promise<void> {
    if (this.#reply !== null || text.trim() === "") return;
    let conversation = this.current();
    if (conversation === null) {
      conversation = newConversation(this.#deps.newId(), this.#deps.wallClock(), model);
      conversation.settings = settings;
      this.#currentId = conversation.id;
      this.#deps.store.setCurrentId(conversation.id);
    }
    if (conversation.messages.length === 0) conversation.title = titleFrom(text);
    conversation.model = model;
    conversation.messages.push({ id: this.#deps.newId(), role: "user", content: text });
    await this.#generate(conversation);
  }

  /** Replaces a user message's text, drops everything after it, and answers it again. */
  async editAndRegenerate(messageId: string, text: string): Promise<void> {
    const conversation = this.current();
    if (conversation === null || this.#reply !== null || text.trim() === "") return;
    const at = conversation.messages.findIndex((m) => m.id === messageId && m.role === "user");
    if (at === -1) return;
    conversation.messages = conversation.messages.slice(0, at + 1);
    conversation.messages[at] = { ...conversation.messages[at], content: text };
    if (at === 0) conversation.title = titleFrom(text);
    await this.#generate(conversation);
  }

  /** Answers the last user message again, replacing the reply after it. */
  async regenerate(): Promise<void> {
    const conversation = this.current();
    if (conversation === null || this.#reply !== null) return;
    let last = conversation.messages.length - 1;
    while (last >= 0 && conversation.messages[last].role !== "user") last--;
    if (last === -1) return;
    conversation.messages = conversation.messages.slice(0, last + 1);
    await this.#generate(conversation);
  }

  /** Stops the reply in flight; its text so far stays. */
  stop(): void {
    this.#abort?.abort(new DOMException("Stopped by the user", "AbortError"));
  }

  async #generate(conversation: Conversation): Promise<void> {
    const model = conversation.model;
    if (model === null) return;
    const message: StoredMessage = {
      id: this.#deps.newId(),
      role: "assistant",
      content: "",
      model,
      pending: true,
    };
    const request = chatRequest(conversation, model);
    conversation.messages.push(message);
    conversation.updatedAt = this.#deps.wallClock();
    const abort = new AbortController();
    this.#abort = abort;
    this.#reply = {
      conversationId: conversation.id,
      messageId: message.id,
      phase: "sending",
      model,
    };
    this.#save(conversation);
    this.#deps.onChange();

    let usage: Usage | null = null;
    let finishReason: string | null = null;
    let sentAt = this.#deps.now();
    let firstTextAt: number | null = null;
    try {
      this.#reply.phase = "waiting";
      this.#deps.onChange();
      await this.#deps.waitForModel(model, abort.signal);
      this.#reply.phase = "sending";
      this.#deps.onChange();
      sentAt = this.#deps.now();
      const response = await this.#deps.client.chat(request, abort.signal);
      const events = readChatStream(response.body!);
      let next = await events.next();
      while (!next.done) {
        const event = next.value;
        switch (event.type) {
          case "delta":
            firstTextAt ??= this.#deps.now();
            this.#reply.phase = "streaming";
            message.content += event.text;
            this.#saveSometimes(conversation);
            this.#deps.onChange();
            break;
          case "finish":
            finishReason = event.reason;
            break;
          case "usage":
            usage = event.usage;
            break;
          case "error":
            throw new NodeApiError(500, event.message, "stream_error");
          default: {
            const unreachable: never = event;
            throw new Error(`Unhandled stream event ${JSON.stringify(unreachable)}`);
          }
        }
        next = await events.next();
      }
      if (!next.value.done && finishReason === null) {
        throw new NodeApiError(
          0,
          "The connection to the node closed before the reply was finished.",
          "stream_cut",
        );
      }
    } catch (error) {
      if (abort.signal.aborted) {
        finishReason = "stopped";
      } else {
        finishReason = "error";
        message.error = describe(error);
      }
    } finally {
      const stats: ReplyStats = replyStats(
        { sentAt, firstTextAt, endedAt: this.#deps.now() },
        usage,
        finishReason,
      );
      message.stats = stats;
      delete message.pending;
      conversation.updatedAt = this.#deps.wallClock();
      this.#reply = null;
      this.#abort = null;
      this.#save(conversation);
      this.#deps.onChange();
    }
  }

  #saveSometimes(conversation: Conversation): void {
    const now = this.#deps.now();
    if (now - this.#lastSave < SAVE_EVERY_MS) return;
    this.#lastSave = now;
    this.#save(conversation);
  }

  #save(conversation: Conversation): void {
    try {
      this.#deps.store.save(conversation);
    } catch (error) {
      if (error instanceof HistoryFullError) this.#deps.onProblem(error);
      else throw error;
    }
  }
}

/** The request for a conversation: its system prompt, messages and settings. */
export function chatRequest(conversation: Conversation, model: string): ChatRequest {
  const { systemPrompt, temperature, maxTokens } = conversation.settings;
  const messages: ApiMessage[] = [];
  if (systemPrompt.trim() !== "") messages.push({ role: "system", content: systemPrompt });
  for (const m of conversation.messages) {
    // A failed or empty reply is not something the model said.
    if (m.role === "assistant" && (m.content === "" || m.error !== undefined)) continue;
    messages.push({ role: m.role, content: m.content });
  }
  const request: ChatRequest = { model, messages };
  if (temperature !== null) request.temperature = temperature;
  request.max_tokens = maxTokens ?? DEFAULT_MAX_TOKENS;
  return request;
}

function describe(error: unknown): ReplyError {
  if (!(error instanceof NodeApiError)) {
    return { title: "Something went wrong", message: (error as Error)?.message ?? String(error) };
  }
  if (error.status === 0 && error.code === null) {
    // The page's banner says why the node cannot be reached, while it cannot; the reply
    // keeps what happened to it, so the same text is not on the screen twice.
    return { title: error.title, message: "The request got no answer from the node." };
  }
  return error.code === null
    ? { title: error.title, message: error.message }
    : { title: error.title, message: error.message, code: error.code };
}
