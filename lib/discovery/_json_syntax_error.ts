import { findJsonErrorOffset } from "./_json_error_offset.ts";

/**
 * Builds "<prefix> at line 3, column 5: <reason>" from a JSON.parse SyntaxError.
 *
 * V8 words its messages three ways: "... in JSON at position 10 (line 2 column 3)",
 * "Unexpected token '}', ..."<text around it>"... is not valid JSON" and "Unexpected end
 * of JSON input". The position is taken from the first, found by scanning for the second, and is
 * the end of the text for the third; the echoed text is dropped, since a file can be long.
 */
export function jsonSyntaxErrorMessage(prefix: string, text: string, error: SyntaxError): string {
  const json = text.replace(/^\uFEFF/, "");
  let reason = error.message;
  let offset: number | undefined;
  const positioned = /^(.*?)(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?$/s
    .exec(reason);
  const echoed = /^(Unexpected token .+?), (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s
    .exec(reason);
  if (positioned) {
    reason = positioned[1];
    offset = Number(positioned[2]);
  } else if (echoed) {
    reason = echoed[1];
    offset = findJsonErrorOffset(json);
  } else if (reason.startsWith("Unexpected end of JSON input")) {
    offset = json.length;
    if (json.trim() === "") reason = "the file is empty";
  } else {
    offset = findJsonErrorOffset(json);
  }
  if (offset === undefined) return `${prefix}: ${reason}`;
  const { line, column } = lineAndColumn(json, offset);
  return `${prefix} at line ${line}, column ${column}: ${reason}`;
}

/** 1-based line and column of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}
