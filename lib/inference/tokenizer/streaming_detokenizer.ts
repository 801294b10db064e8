import { cleanUpTokenization, lastSafeCleanupCut } from "./_clean_up_tokenization.ts";
import type { DecodeOptions } from "./model_tokenizer.ts";

/** What streaming needs from a tokenizer; {@linkcode ModelTokenizer} provides it. */
export interface TokenDecoder {
  readonly specialTokenIds: ReadonlySet<number>;
  readonly cleanUpTokenizationSpaces: boolean;
  decode(ids: readonly number[], options?: DecodeOptions): string;
}

const REPLACEMENT_CHARACTER = "\uFFFD";

/**
 * Turns generated token ids, one at a time, into text deltas. A byte-level BPE token can end
 * in the middle of a multi-byte UTF-8 character; such text is held back until the character
 * is complete, so no delta carries a U+FFFD that the full text would not. Special tokens are
 * skipped. All deltas plus {@linkcode StreamingDetokenizer.flush} concatenate to
 * `decode(allIds, { skipSpecialTokens: true })`.
 *
 * @example Usage
 * ```ts
 * const detokenizer = new StreamingDetokenizer(tokenizer);
 * for (const id of ids) write(detokenizer.push(id));
 * write(detokenizer.flush());
 * ```
 */
export class StreamingDetokenizer {
  #decoder: TokenDecoder;
  // Decoding a window rather than single tokens keeps decoders that treat the first token
  // specially (SentencePiece's leading space) right: the delta is the window's text past
  // the text of its already emitted prefix, as in vLLM's incremental detokenizer.
  #window: number[] = [];
  #emittedInWindow = 0;
  #prefixText = "";
  // Raw text not yet released because `clean_up_tokenization` could still change it.
  #uncleaned = "";

  /** @param decoder The tokenizer whose ids will be pushed. */
  constructor(decoder: TokenDecoder) {
    this.#decoder = decoder;
  }

  /**
   * Adds one generated token and returns the text it completes (often "", never partial).
   *
   * @throws {RangeError} When the id is not in the vocabulary; the stream is left as it was.
   */
  push(id: number): string {
    if (this.#decoder.specialTokenIds.has(id)) return "";
    this.#window.push(id);
    let text: string;
    try {
      text = this.#decodeRaw(this.#window);
    } catch (error) {
      this.#window.pop();
      throw error;
    }
    if (
      text.length <= this.#prefixText.length || text.endsWith(REPLACEMENT_CHARACTER) ||
      !text.startsWith(this.#prefixText)
    ) {
      return "";
    }
    const delta = text.slice(this.#prefixText.length);
    this.#window = this.#window.slice(this.#emittedInWindow);
    this.#emittedInWindow = this.#window.length;
    this.#prefixText = this.#decodeRaw(this.#window);
    return this.#clean(delta, false);
  }

  /** Returns whatever is still held back; call once when generation ends. */
  flush(): string {
    const text = this.#decodeRaw(this.#window);
    const delta = text.startsWith(this.#prefixText) ? text.slice(this.#prefixText.length) : "";
    this.#window = [];
    this.#emittedInWindow = 0;
    this.#prefixText = "";
    return this.#clean(delta, true);
  }

  #decodeRaw(ids: number[]): string {
    return this.#decoder.decode(ids, { cleanUpTokenizationSpaces: false });
  }

  #clean(delta: string, final: boolean): string {
    if (!this.#decoder.cleanUpTokenizationSpaces) return delta;
    const pending = this.#uncleaned + delta;
    const cut = final ? pending.length : lastSafeCleanupCut(pending);
    this.#uncleaned = pending.slice(cut);
    return cleanUpTokenization(pending.slice(0, cut));
  }
}
