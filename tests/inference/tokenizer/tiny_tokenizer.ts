// A byte-level BPE tokenizer small enough to build in microseconds: one token per byte (no
// merges), so every multi-byte character is split across tokens, plus a few special tokens.
import type { TokenizerFiles } from "../../../lib/inference/tokenizer/mod.ts";

/** Ids of the tiny tokenizer's special tokens. */
export const TINY = { bos: 256, eos: 257, eot: 258 } as const;

/** GPT-2's byte-to-character table, which byte-level BPE vocabularies are written in. */
function bytesToUnicode(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) chars.push(String.fromCodePoint(printable(b) ? b : next++));
  return chars;
}

function addedToken(id: number, content: string) {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
}

/** The tiny tokenizer's files; `config` entries override tokenizer_config.json's. */
export function tinyTokenizerFiles(
  config: Record<string, unknown> = {},
  extra: Partial<TokenizerFiles> = {},
): TokenizerFiles {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((char, byte) => (vocab[char] = byte));
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  return {
    tokenizer: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [
        addedToken(TINY.bos, "<s>"),
        addedToken(TINY.eos, "</s>"),
        addedToken(TINY.eot, "<|eot|>"),
      ],
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, {
          Sequence: { id: "A", type_id: 0 },
        }],
        pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
        special_tokens: { "<s>": { id: "<s>", ids: [TINY.bos], tokens: ["<s>"] } },
      },
      decoder: byteLevel,
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges: [],
      },
    },
    tokenizerConfig: {
      bos_token: "<s>",
      eos_token: { content: "</s>", special: true },
      chat_template:
        "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}<|eot|>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
      ...config,
    },
    source: "/models/tiny",
    ...extra,
  };
}
