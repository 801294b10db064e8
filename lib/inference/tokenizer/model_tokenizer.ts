import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { type ChatMessage, ChatTemplate } from "./chat_template.ts";
import { ChatTemplateError } from "./chat_template_error.ts";
import { cleanUpTokenization } from "./_clean_up_tokenization.ts";
import {
  additionalTokenContents,
  eosIdList,
  SPECIAL_TOKEN_KEYS,
  tokenContent,
} from "./_special_tokens.ts";
import { readTokenizerFiles, type TokenizerFiles } from "./tokenizer_files.ts";

/** Options of {@linkcode ModelTokenizer.encode}. */
export interface EncodeOptions {
  /** Let tokenizer.json's post-processor add its special tokens (e.g. BOS); default true. */
  addSpecialTokens?: boolean;
}

/** Options of {@linkcode ModelTokenizer.decode}. */
export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, headers...); default false. */
  skipSpecialTokens?: boolean;
  /** Override the config's `clean_up_tokenization_spaces`. */
  cleanUpTokenizationSpaces?: boolean;
}

/** Options of {@linkcode ModelTokenizer.applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's reply; default true. */
  addGenerationPrompt?: boolean;
}

/**
 * A model's tokenizer and chat template, built from its own files (tokenizer.json,
 * tokenizer_config.json, generation_config.json) as Hugging Face transformers reads them.
 *
 * @example Usage
 * ```ts
 * const tokenizer = await ModelTokenizer.load("/models/llama-3.2-1b-instruct");
 * const ids = tokenizer.encodeChat([{ role: "user", content: "Hi" }]);
 * ```
 */
export class ModelTokenizer {
  /** Ids that end generation: generation_config's `eos_token_id` plus the config's eos token. */
  readonly eosTokenIds: ReadonlySet<number>;
  /** Ids of special tokens, which streaming and `skipSpecialTokens` leave out of text. */
  readonly specialTokenIds: ReadonlySet<number>;
  /** The beginning-of-sequence id, when the tokenizer has one. */
  readonly bosTokenId: number | undefined;
  /** One more than the largest token id; the model's own vocab_size may be padded above it. */
  readonly vocabSize: number;
  /** Whether decoding removes spaces before punctuation (`clean_up_tokenization_spaces`). */
  readonly cleanUpTokenizationSpaces: boolean;
  #tokenizer: Tokenizer;
  #chatTemplate: ChatTemplate | undefined;
  #templateVariables: Record<string, unknown>;
  #addBosToken: boolean;
  #source: string;

  /**
   * Builds a tokenizer from already parsed files; {@linkcode ModelTokenizer.load} reads them.
   *
   * @throws {SyntaxError} When the files do not describe a usable tokenizer or template.
   */
  constructor(files: TokenizerFiles) {
    const { tokenizerConfig: config, source } = files;
    this.#source = source;
    try {
      this.#tokenizer = new Tokenizer(files.tokenizer, config);
    } catch (error) {
      throw new SyntaxError(
        `Cannot load tokenizer from ${join(source, "tokenizer.json")}: ${(error as Error).message}`,
        { cause: error },
      );
    }

    const vocab = this.#tokenizer.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    const special = collectSpecialTokens(this.#tokenizer, config);
    this.specialTokenIds = special.ids;
    this.#templateVariables = special.templateVariables;

    const bos = tokenContent(config.bos_token);
    this.bosTokenId = bos === undefined ? undefined : this.#tokenizer.token_to_id(bos);
    this.#addBosToken = config.add_bos_token === true && this.bosTokenId !== undefined;

    const eosIds = new Set(
      eosIdList(files.generationConfig?.eos_token_id, join(source, "generation_config.json")),
    );
    const eos = tokenContent(config.eos_token);
    const configEosId = eos === undefined ? undefined : this.#tokenizer.token_to_id(eos);
    if (configEosId !== undefined) eosIds.add(configEosId);
    this.eosTokenIds = eosIds;

    // transformers now defaults this to false; configs that want it say so.
    this.cleanUpTokenizationSpaces = config.clean_up_tokenization_spaces === true;

    const template = files.chatTemplate ?? templateFromConfig(config.chat_template);
    const templateFile = files.chatTemplate !== undefined
      ? "chat_template.jinja"
      : "tokenizer_config.json";
    this.#chatTemplate = template === undefined
      ? undefined
      : new ChatTemplate(template, join(source, templateFile));
  }

  /**
   * Reads a model directory's tokenizer files and builds the tokenizer.
   *
   * @throws {Deno.errors.NotFound} When tokenizer.json or tokenizer_config.json is missing.
   * @throws {SyntaxError} When a file is malformed; the message names the file.
   */
  static async load(modelDir: string): Promise<ModelTokenizer> {
    return new ModelTokenizer(await readTokenizerFiles(modelDir));
  }

  /** Token ids of `text`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const { addSpecialTokens = true } = options;
    return this.#tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /**
   * Text of `ids`. Bytes of an incomplete UTF-8 character decode as U+FFFD.
   *
   * @throws {RangeError} When an id is not in the vocabulary.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const {
      skipSpecialTokens = false,
      cleanUpTokenizationSpaces = this.cleanUpTokenizationSpaces,
    } = options;
    const kept = skipSpecialTokens ? ids.filter((id) => !this.specialTokenIds.has(id)) : [...ids];
    if (kept.length === 0) return "";
    for (const id of kept) {
      if (this.#tokenizer.id_to_token(id) === undefined) {
        throw new RangeError(
          `Cannot decode token id ${id}: not in the vocabulary of ${this.vocabSize} ids`,
        );
      }
    }
    // Special tokens were filtered above by id, and cleanup is ours, so that streaming
    // detokenization can reproduce exactly the same text piece by piece.
    const text = this.#tokenizer.decode(kept, {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: false,
    });
    return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
  }

  /**
   * Renders a chat through the model's chat template into prompt text.
   *
   * @throws {TypeError} When a message has no string role or content.
   * @throws {ChatTemplateError} When the model has no chat template or the template raises.
   */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: ChatTemplateOptions = {},
  ): string {
    const { addGenerationPrompt = true } = options;
    if (this.#chatTemplate === undefined) {
      throw new ChatTemplateError(
        `Cannot render chat: ${this.#source} has no chat template (neither chat_template in tokenizer_config.json nor chat_template.jinja)`,
      );
    }
    return this.#chatTemplate.render(messages, addGenerationPrompt, this.#templateVariables);
  }

  /**
   * Token ids of a rendered chat. Like transformers, the rendered text is encoded without
   * the post-processor's special tokens, since templates write BOS themselves (Llama 3's
   * does); BOS is prepended only when the config sets `add_bos_token` and the template did
   * not already start with it.
   *
   * @throws {TypeError} When a message has no string role or content.
   * @throws {ChatTemplateError} When the model has no chat template or the template raises.
   */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    const ids = this.encode(this.applyChatTemplate(messages, options), {
      addSpecialTokens: false,
    });
    if (this.#addBosToken && ids[0] !== this.bosTokenId) ids.unshift(this.bosTokenId!);
    return ids;
  }
}

/**
 * Special token ids (added tokens marked special, plus the config's named and additional
 * special tokens) and the variables a chat template sees (`bos_token`, `eos_token`, ...).
 */
function collectSpecialTokens(
  tokenizer: Tokenizer,
  config: Record<string, unknown>,
): { ids: Set<number>; templateVariables: Record<string, unknown> } {
  const ids = new Set<number>();
  for (const [id, token] of tokenizer.get_added_tokens_decoder()) {
    if (token.special) ids.add(id);
  }
  const templateVariables: Record<string, unknown> = {};
  const contents: string[] = [];
  for (const key of SPECIAL_TOKEN_KEYS) {
    const content = tokenContent(config[key]);
    if (content === undefined) continue;
    templateVariables[key] = content;
    contents.push(content);
  }
  const additional = additionalTokenContents(config.additional_special_tokens);
  templateVariables.additional_special_tokens = additional;
  for (const content of [...contents, ...additional]) {
    const id = tokenizer.token_to_id(content);
    if (id !== undefined) ids.add(id);
  }
  return { ids, templateVariables };
}

function templateFromConfig(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  // Configs with several templates name them; "default" is the one for plain chat.
  if (Array.isArray(value)) {
    const named = value.find((entry) => entry?.name === "default");
    if (typeof named?.template === "string") return named.template;
  }
  return undefined;
}
