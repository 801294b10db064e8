/** What {@linkcode StopStringMatcher.push} lets through. */
export interface StopStringResult {
  /** Text safe to emit: it cannot be part of a stop string. */
  text: string;
  /** The stop string that matched, ending generation; undefined while none has. */
  stop: string | undefined;
}

/**
 * Finds OpenAI `stop` strings in streamed text, even when one spans several deltas. Text
 * that could still be the start of a stop string is held back; when a stop string matches,
 * the text before it is released and the stop string itself never is.
 *
 * @example Usage
 * ```ts
 * const matcher = new StopStringMatcher(["\nUser:"]);
 * matcher.push("Hello\nUs"); // { text: "Hello", stop: undefined }
 * matcher.push("er: hi");    // { text: "", stop: "\nUser:" }
 * ```
 */
export class StopStringMatcher {
  #stops: readonly string[];
  #held = "";
  #matched: string | undefined;

  /**
   * @param stops The stop strings; none means text passes straight through.
   * @throws {TypeError} When a stop string is not a string.
   * @throws {RangeError} When a stop string is empty.
   */
  constructor(stops: readonly string[]) {
    for (const stop of stops) {
      if (typeof stop !== "string") {
        throw new TypeError(`Cannot use stop string ${JSON.stringify(stop)}: not a string`);
      }
      if (stop.length === 0) throw new RangeError("Cannot use stop string: it is empty");
    }
    this.#stops = [...stops];
  }

  /** The stop string that matched, if one has. */
  get matched(): string | undefined {
    return this.#matched;
  }

  /** Feeds the next delta; after a match everything is dropped. */
  push(delta: string): StopStringResult {
    if (this.#matched !== undefined) return { text: "", stop: this.#matched };
    const text = this.#held + delta;
    let first = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        this.#matched = stop;
      }
    }
    if (this.#matched !== undefined) {
      this.#held = "";
      return { text: text.slice(0, first), stop: this.#matched };
    }
    const keep = this.#longestStopPrefixAtEnd(text);
    this.#held = text.slice(text.length - keep);
    return { text: text.slice(0, text.length - keep), stop: undefined };
  }

  /** Releases held-back text at the end of generation ("" after a match). */
  flush(): string {
    const held = this.#held;
    this.#held = "";
    return held;
  }

  #longestStopPrefixAtEnd(text: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
