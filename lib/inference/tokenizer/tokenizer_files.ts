import { join } from "node:path";

/** The parsed tokenizer files of one model directory, in the Hugging Face layout. */
export interface TokenizerFiles {
  /** tokenizer.json */
  tokenizer: Record<string, unknown>;
  /** tokenizer_config.json */
  tokenizerConfig: Record<string, unknown>;
  /** generation_config.json, when the model has one. */
  generationConfig?: Record<string, unknown>;
  /** chat_template.jinja, which newer checkpoints ship instead of `chat_template` in the config. */
  chatTemplate?: string;
  /** The directory they came from, named in error messages. */
  source: string;
}

/**
 * Reads tokenizer.json and tokenizer_config.json (required), generation_config.json and
 * chat_template.jinja (optional) from a model directory.
 *
 * @throws {Deno.errors.NotFound} When a required file is missing.
 * @throws {SyntaxError} When a file is not a JSON object.
 */
export async function readTokenizerFiles(modelDir: string): Promise<TokenizerFiles> {
  const [tokenizer, tokenizerConfig, generationConfig, chatTemplate] = await Promise.all([
    readJsonObject(join(modelDir, "tokenizer.json"), true),
    readJsonObject(join(modelDir, "tokenizer_config.json"), true),
    readJsonObject(join(modelDir, "generation_config.json"), false),
    readOptionalText(join(modelDir, "chat_template.jinja")),
  ]);
  return {
    tokenizer: tokenizer!,
    tokenizerConfig: tokenizerConfig!,
    generationConfig,
    chatTemplate,
    source: modelDir,
  };
}

async function readJsonObject(
  path: string,
  required: boolean,
): Promise<Record<string, unknown> | undefined> {
  const text = required ? await readRequiredText(path) : await readOptionalText(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Cannot load tokenizer: ${path} is not valid JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError(`Cannot load tokenizer: ${path} does not hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

async function readRequiredText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot load tokenizer: ${path} does not exist`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
