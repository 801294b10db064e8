/**
 * Finds the command-line flags in a message (`--models-seed-dir`), which the page keeps
 * on one line where a browser would break them after their dashes.
 * @module
 */

const FLAG = /((?<![\w-])--[a-z][a-z0-9-]*)/;

/** `text` split around its flags: the flags at odd indices, the text between at even. */
export function flagParts(text: string): string[] {
  return text.split(FLAG);
}
