// Readers for the loosely typed special-token fields of tokenizer_config.json and
// generation_config.json.

/** Config keys that name one special token, as in transformers' SPECIAL_TOKENS_ATTRIBUTES. */
export const SPECIAL_TOKEN_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;

/** A special token's text: configs write either the string or an AddedToken object. */
export function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "content" in value) {
    const content = (value as { content: unknown }).content;
    if (typeof content === "string") return content;
  }
  return undefined;
}

/** The texts of `additional_special_tokens`, skipping entries that are not tokens. */
export function additionalTokenContents(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map(tokenContent).filter((content) => content !== undefined);
}

/**
 * `eos_token_id` as a list: the field holds an id, a list of ids, or nothing.
 *
 * @throws {SyntaxError} When it holds anything else.
 */
export function eosIdList(value: unknown, origin: string): number[] {
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new SyntaxError(
        `Cannot load tokenizer: eos_token_id in ${origin} must be a token id or a list of them, got ${
          JSON.stringify(value)
        }`,
      );
    }
  }
  return ids;
}
