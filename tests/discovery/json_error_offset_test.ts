import { strictEqual } from "node:assert/strict";
import { findJsonErrorOffset } from "../../lib/discovery/_json_error_offset.ts";
import { lineAndColumn } from "../../lib/discovery/_json_syntax_error.ts";

const SAMPLE = JSON.stringify(
  {
    peers: {
      mac2: {
        address: "127.0.0.1:50052",
        port: 50052,
        device_capabilities: {
          chip: "Apple M2",
          memory: 16384,
          flops: { fp32: 3.55, fp16: -7e-1 },
        },
      },
      x: { address: '\u00e9\\"\n', list: [true, false, null, [], {}] },
    },
  },
  null,
  2,
);
const ALPHABET = ' \n{}[]:,"\\0123456789-+.eEtrufalsn\u0001x';

/** A seeded generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function mutate(text: string, next: () => number): string {
  let result = text;
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (result.length + 1));
    const char = ALPHABET[Math.floor(next() * ALPHABET.length)];
    const kind = Math.floor(next() * 3);
    result = kind === 0
      ? result.slice(0, at) + char + result.slice(at)
      : kind === 1
      ? result.slice(0, at) + result.slice(at + 1)
      : result.slice(0, at) + char + result.slice(at + 1);
  }
  return result;
}

Deno.test("findJsonErrorOffset agrees with V8 wherever V8 gives a position or names the token", () => {
  const next = random(7);
  let compared = 0;
  for (let trial = 0; trial < 3000; trial++) {
    const text = mutate(SAMPLE, next);
    let message: string | undefined;
    try {
      JSON.parse(text);
    } catch (error) {
      message = (error as SyntaxError).message;
    }
    const offset = findJsonErrorOffset(text);
    if (message === undefined) {
      strictEqual(offset, undefined, `valid JSON reported as broken: ${JSON.stringify(text)}`);
      continue;
    }
    strictEqual(typeof offset, "number", `no offset for ${message}`);
    const position = / at position (\d+)/.exec(message);
    if (position) {
      compared++;
      strictEqual(offset, Number(position[1]), `${message} in ${JSON.stringify(text)}`);
    }
    if (message.startsWith("Unexpected end of JSON input")) strictEqual(offset, text.length);
    const token = /^Unexpected token '(.)'/s.exec(message);
    if (token) strictEqual(text[offset!], token[1], `${message} at ${offset}`);
  }
  strictEqual(compared > 1000, true, `only ${compared} positioned errors compared`);
});

Deno.test("findJsonErrorOffset returns undefined for valid JSON", () => {
  for (const text of ["0", ' [1, -2.5e3, "\\u00ff"] ', '{"a":{"b":[]}}', "null"]) {
    strictEqual(findJsonErrorOffset(text), undefined, text);
  }
});

Deno.test("lineAndColumn counts from one, columns restarting after each newline", () => {
  const text = "ab\ncd\n\nef";
  strictEqual(JSON.stringify(lineAndColumn(text, 0)), '{"line":1,"column":1}');
  strictEqual(JSON.stringify(lineAndColumn(text, 2)), '{"line":1,"column":3}');
  strictEqual(JSON.stringify(lineAndColumn(text, 3)), '{"line":2,"column":1}');
  strictEqual(JSON.stringify(lineAndColumn(text, 6)), '{"line":3,"column":1}');
  strictEqual(JSON.stringify(lineAndColumn(text, 9)), '{"line":4,"column":3}');
  strictEqual(JSON.stringify(lineAndColumn("\nx", 0)), '{"line":1,"column":1}');
});
