// Hugging Face's `clean_up_tokenization`, the same replacements in the same order, plus where
// text may be split so that cleaning the parts equals cleaning the whole (for streaming).

/** Removes the space before punctuation and English contractions (" ." -> ".", " n't" -> "n't"). */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

// Every replacement deletes only the leading space of its match, so a non-space character
// is never deleted and nothing is ever inserted after it. A match that covers such a
// character and the one after it must hold that pair inside the pattern, and in every
// pattern such a pair starts with one of these (from " ' ", "n't", "'m", "'s", "'ve", "'re"). Text ending in any other non-space character can therefore be
// cleaned on its own, whatever follows.
const PAIR_STARTS = new Set(["'", "n", "v", "r"]);

/**
 * The largest index p such that `cleanUpTokenization(text.slice(0, p))` followed by
 * `cleanUpTokenization(text.slice(p) + more)` equals `cleanUpTokenization(text + more)` for
 * any `more`; 0 when there is none. In well-formed text it never splits a surrogate pair: a
 * low surrogate always qualifies as the character before the cut, so the search stops after
 * it rather than between the pair.
 */
export function lastSafeCleanupCut(text: string): number {
  for (let p = text.length; p >= 1; p--) {
    const before = text[p - 1];
    if (before !== " " && !PAIR_STARTS.has(before)) return p;
  }
  return 0;
}
