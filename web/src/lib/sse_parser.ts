/**
 * A server-sent events parser (the WHATWG event-stream format) that does no I/O: push text
 * as it arrives, get back the `data` of every event it completes, leftovers kept.
 * @module
 */

/** One event's data: its `data:` lines joined by newlines. */
export type SseData = string;

/** Splits an event stream into events; works on chunks cut anywhere, even inside `\r\n`. */
export class SseParser {
  #buffer = "";
  #data: string[] = [];
  #sawData = false;
  #pendingCr = false;

  /** Feeds decoded text; returns the data of the events it completed, in order. */
  push(text: string): SseData[] {
    if (this.#pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const events: SseData[] = [];
    for (;;) {
      const end = this.#buffer.search(/\r\n|\r|\n/);
      if (end === -1) break;
      const lineBreak = this.#buffer.startsWith("\r\n", end) ? 2 : 1;
      // A lone "\r" at the end may be the first half of "\r\n" still in flight.
      if (lineBreak === 1 && this.#buffer[end] === "\r" && end === this.#buffer.length - 1) {
        this.#pendingCr = true;
      }
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + lineBreak);
      const event = this.#line(line);
      if (event !== null) events.push(event);
    }
    return events;
  }

  /** Ends the stream: an event cut off without its blank line is dropped, as browsers do. */
  end(): SseData[] {
    this.#buffer = "";
    this.#data = [];
    this.#sawData = false;
    return [];
  }

  #line(line: string): SseData | null {
    if (line === "") {
      if (!this.#sawData) return null;
      const data = this.#data.join("\n");
      this.#data = [];
      this.#sawData = false;
      return data;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      this.#data.push(value);
      this.#sawData = true;
    }
    return null;
  }
}
