/**
 * Finds the offset of the first JSON syntax error in `text`, for the SyntaxErrors whose
 * message gives no position ("Unexpected token '}', ... is not valid JSON"). Returns
 * `text.length` when the text ends too early and undefined when the text is valid JSON
 * or nests too deep to scan.
 */
export function findJsonErrorOffset(text: string): number | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.value();
    scanner.whitespace();
    return scanner.atEnd() ? undefined : scanner.offset;
  } catch (error) {
    if (error instanceof ScanError) return error.offset;
    if (error instanceof RangeError) return undefined; // call stack exhausted
    throw error;
  }
}

class ScanError extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at offset ${offset}`);
  }
}

const DIGITS = /\d+/y;
// deno-lint-ignore no-control-regex -- JSON strings may not hold raw control characters
const STRING_CHUNK = /[^"\\\u0000-\u001f]*/y;

class Scanner {
  #text: string;
  offset = 0;

  constructor(text: string) {
    this.#text = text;
  }

  atEnd(): boolean {
    return this.offset >= this.#text.length;
  }

  whitespace(): void {
    while (/[ \t\n\r]/.test(this.#text[this.offset] ?? "")) this.offset++;
  }

  value(): void {
    this.whitespace();
    const char = this.#text[this.offset];
    if (char === "{") return this.#object();
    if (char === "[") return this.#array();
    if (char === '"') return this.#string();
    const word = ["true", "false", "null"].find((word) => word[0] === char);
    if (word === undefined) return this.#number();
    // V8 blames the first wrong character ("tru}" fails at "}"), so walk the word.
    for (const expected of word) {
      if (this.#text[this.offset] !== expected) this.#fail();
      this.offset++;
    }
  }

  #object(): void {
    this.offset++;
    this.whitespace();
    if (this.#text[this.offset] === "}") {
      this.offset++;
      return;
    }
    for (;;) {
      this.whitespace();
      if (this.#text[this.offset] !== '"') this.#fail();
      this.#string();
      this.#expect(":");
      this.value();
      this.whitespace();
      if (this.#text[this.offset] === "}") {
        this.offset++;
        return;
      }
      this.#expect(",");
    }
  }

  #array(): void {
    this.offset++;
    this.whitespace();
    if (this.#text[this.offset] === "]") {
      this.offset++;
      return;
    }
    for (;;) {
      this.value();
      this.whitespace();
      if (this.#text[this.offset] === "]") {
        this.offset++;
        return;
      }
      this.#expect(",");
    }
  }

  #string(): void {
    this.offset++;
    for (;;) {
      this.#match(STRING_CHUNK);
      const char = this.#text[this.offset];
      if (char === '"') {
        this.offset++;
        return;
      }
      if (char !== "\\") this.#fail();
      this.#escape();
    }
  }

  // V8 blames the first character that cannot continue the escape, as for numbers below.
  #escape(): void {
    this.offset++;
    const char = this.#text[this.offset];
    if (char === "u") {
      this.offset++;
      for (let i = 0; i < 4; i++) {
        if (!/[0-9a-fA-F]/.test(this.#text[this.offset] ?? "")) this.#fail();
        this.offset++;
      }
    } else if (char !== undefined && '"\\/bfnrt'.includes(char)) {
      this.offset++;
    } else {
      this.#fail();
    }
  }

  // V8 blames the first character that cannot continue the number, so scan part by part.
  #number(): void {
    if (this.#text[this.offset] === "-") this.offset++;
    if (this.#text[this.offset] === "0") this.offset++;
    else if (!this.#match(DIGITS)) this.#fail();
    if (this.#text[this.offset] === ".") {
      this.offset++;
      if (!this.#match(DIGITS)) this.#fail();
    }
    if (this.#text[this.offset] === "e" || this.#text[this.offset] === "E") {
      this.offset++;
      if (this.#text[this.offset] === "+" || this.#text[this.offset] === "-") this.offset++;
      if (!this.#match(DIGITS)) this.#fail();
    }
  }

  #expect(char: string): void {
    this.whitespace();
    if (this.#text[this.offset] !== char) this.#fail();
    this.offset++;
  }

  #match(pattern: RegExp): boolean {
    pattern.lastIndex = this.offset;
    if (!pattern.test(this.#text)) return false;
    this.offset = pattern.lastIndex;
    return true;
  }

  #fail(): never {
    throw new ScanError(Math.min(this.offset, this.#text.length));
  }
}
