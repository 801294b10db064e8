import assert from "node:assert/strict";
import { SseParser } from "../../web/src/lib/sse_parser.ts";

const STREAM = 'data: {"a":1}\n\n: a comment\n\ndata: line one\ndata: line two\n\r\n' +
  "event: ping\ndata:no-space\r\n\r\ndata\n\nid: 7\n\ndata: [DONE]\n\n";
const EVENTS = ['{"a":1}', "line one\nline two", "no-space", "", "[DONE]"];

Deno.test("SseParser reads data events, multi-line data, comments and every line ending", () => {
  assert.deepEqual(new SseParser().push(STREAM), EVENTS);
});

Deno.test("SseParser gives the same events fed one character at a time", () => {
  const parser = new SseParser();
  const events = [...STREAM].flatMap((ch) => parser.push(ch));
  assert.deepEqual(events, EVENTS);
});

Deno.test("SseParser gives the same events at random split points, \\r\\n split included", () => {
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let round = 0; round < 200; round++) {
    const parser = new SseParser();
    const events: string[] = [];
    for (let at = 0; at < STREAM.length;) {
      const size = 1 + Math.floor(random() * 12);
      events.push(...parser.push(STREAM.slice(at, at + size)));
      at += size;
    }
    assert.deepEqual(events, EVENTS, `round ${round}`);
  }
});

Deno.test("SseParser drops an event cut off before its blank line", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data: {"whole":true}\n\ndata: {"cut'), ['{"whole":true}']);
  assert.deepEqual(parser.end(), []);
  assert.deepEqual(parser.push("data: next\n\n"), ["next"]);
});
