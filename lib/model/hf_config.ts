/**
 * Reading a Hugging Face `config.json` (and `generation_config.json`) into a
 * {@linkcode ModelConfig}.
 *
 * @module
 */

import type { Architecture, Llama3RopeScaling, ModelConfig } from "./model_config.ts";
import { UnsupportedModelError } from "./unsupported_model_error.ts";

type Json = Record<string, unknown>;

const ARCHITECTURES: readonly Architecture[] = ["llama", "mistral", "qwen2", "qwen3"];

/** `architectures[0]` of configs that lack `model_type`. */
const ARCHITECTURE_CLASSES: Readonly<Record<string, Architecture>> = {
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "mistral",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
};

/** What transformers assumes when `max_position_embeddings` is absent. */
const DEFAULT_MAX_POSITIONS: Readonly<Record<Architecture, number>> = {
  llama: 2048,
  mistral: 131072,
  qwen2: 32768,
  qwen3: 32768,
};

/**
 * Parses the contents of a config.json. `source` names the file in error messages.
 * Throws TypeError for a missing or ill-typed field, RangeError for an out-of-range or
 * inconsistent value and {@linkcode UnsupportedModelError} for a model this engine cannot run.
 */
export function parseModelConfig(json: unknown, source: string): ModelConfig {
  const prefix = `Cannot read model config ${source}`;
  const unsupported = `Cannot run the model of ${source}`;
  if (!isObject(json)) throw new TypeError(`${prefix}: not a JSON object`);
  const fields = new ConfigFields(json, prefix);
  const architecture = readArchitecture(json, prefix, unsupported);

  if (json.quantization_config !== undefined && json.quantization_config !== null) {
    throw new UnsupportedModelError(
      `${unsupported}: quantization_config is not supported: only float checkpoints can be read`,
    );
  }
  const hiddenAct = fields.optionalString("hidden_act") ?? "silu";
  if (hiddenAct !== "silu") {
    throw new UnsupportedModelError(
      `${unsupported}: hidden_act "${hiddenAct}" is not supported (silu)`,
    );
  }
  // In llama and qwen3 these flags add biases that ModelConfig cannot express (o_proj, MLP).
  if (architecture === "llama" || architecture === "qwen3") {
    for (const flag of ["attention_bias", "mlp_bias"]) {
      if (fields.boolean(flag, false)) {
        throw new UnsupportedModelError(
          `${unsupported}: ${flag} true is not supported for ${architecture}`,
        );
      }
    }
  }
  const partialRotary = fields.positiveNumber("partial_rotary_factor", 1);
  if (partialRotary !== 1) {
    throw new UnsupportedModelError(
      `${unsupported}: partial_rotary_factor ${partialRotary} is not supported`,
    );
  }

  const hiddenSize = fields.positiveInteger("hidden_size");
  const numLayers = fields.positiveInteger("num_hidden_layers");
  const numHeads = fields.positiveInteger("num_attention_heads");
  const numKvHeads = fields.positiveInteger("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new RangeError(
      `${prefix}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  const explicitHeadDim = fields.optionalPositiveInteger("head_dim");
  if (explicitHeadDim === null && hiddenSize % numHeads !== 0) {
    throw new RangeError(
      `${prefix}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads} and head_dim is absent`,
    );
  }
  const headDim = explicitHeadDim ?? hiddenSize / numHeads;
  if (headDim % 2 !== 0) {
    throw new RangeError(`${prefix}: head_dim ${headDim} must be even for rotary embeddings`);
  }

  const ropeParameters = json.rope_parameters;
  const ropeTheta = fields.positiveNumber(
    "rope_theta",
    isObject(ropeParameters) && typeof ropeParameters.rope_theta === "number"
      ? ropeParameters.rope_theta
      : 10000,
  );

  return {
    architecture,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: fields.positiveInteger("intermediate_size"),
    vocabSize: fields.positiveInteger("vocab_size"),
    rmsNormEps: fields.positiveNumber("rms_norm_eps", 1e-6),
    ropeTheta,
    ropeScaling: readRopeScaling(json, prefix, unsupported),
    maxPositionEmbeddings: readMaxPositions(architecture, fields),
    tieWordEmbeddings: fields.boolean("tie_word_embeddings", false),
    attentionBias: architecture === "qwen2",
    qkNorm: architecture === "qwen3",
    bosTokenId: fields.optionalTokenId("bos_token_id"),
    eosTokenIds: fields.tokenIds("eos_token_id") ?? [],
    torchDtype: fields.optionalString("torch_dtype") ?? fields.optionalString("dtype") ?? "unknown",
  };
}

/**
 * Applies a generation_config.json over `config`: its `eos_token_id` (an id or a list) and
 * `bos_token_id`, where present, replace the config's.
 */
export function mergeGenerationConfig(
  config: ModelConfig,
  json: unknown,
  source: string,
): ModelConfig {
  const prefix = `Cannot read generation config ${source}`;
  if (!isObject(json)) throw new TypeError(`${prefix}: not a JSON object`);
  const fields = new ConfigFields(json, prefix);
  const eosTokenIds = fields.tokenIds("eos_token_id");
  const bosTokenId = fields.optionalTokenId("bos_token_id");
  return {
    ...config,
    eosTokenIds: eosTokenIds ?? config.eosTokenIds,
    bosTokenId: bosTokenId ?? config.bosTokenId,
  };
}

/** Reads `config.json` in `modelDir`, merged with `generation_config.json` when present. */
export async function loadModelConfig(modelDir: string): Promise<ModelConfig> {
  const configPath = `${modelDir}/config.json`;
  const config = parseModelConfig(await readJson(configPath, "model config"), configPath);
  const generationPath = `${modelDir}/generation_config.json`;
  try {
    const generation = await readJson(generationPath, "generation config");
    return mergeGenerationConfig(config, generation, generationPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return config;
    throw error;
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Cannot read ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** The families this build runs, for messages about others. */
const SUPPORTED = `this build runs ${ARCHITECTURES.join(", ")} (${
  Object.keys(ARCHITECTURE_CLASSES).join(", ")
})`;

function readArchitecture(json: Json, prefix: string, unsupported: string): Architecture {
  const modelType = json.model_type;
  if (typeof modelType === "string") {
    if ((ARCHITECTURES as readonly string[]).includes(modelType)) return modelType as Architecture;
    const named = Array.isArray(json.architectures) && typeof json.architectures[0] === "string"
      ? ` (${json.architectures[0]})`
      : "";
    throw new UnsupportedModelError(
      `${unsupported}: model_type "${modelType}"${named} is not supported: ${SUPPORTED}`,
    );
  }
  if (modelType !== undefined) throw new TypeError(`${prefix}: model_type must be a string`);
  const classes = json.architectures;
  if (Array.isArray(classes) && typeof classes[0] === "string") {
    const architecture = ARCHITECTURE_CLASSES[classes[0]];
    if (architecture !== undefined) return architecture;
    throw new UnsupportedModelError(
      `${unsupported}: architecture ${classes[0]} is not supported: ${SUPPORTED}`,
    );
  }
  throw new TypeError(`${prefix}: model_type is missing`);
}

function readRopeScaling(
  json: Json,
  prefix: string,
  unsupported: string,
): Llama3RopeScaling | null {
  // transformers 5 folds rope_scaling into rope_parameters, which always names a type.
  const scaling = json.rope_scaling ?? json.rope_parameters ?? null;
  const key = json.rope_scaling !== undefined && json.rope_scaling !== null
    ? "rope_scaling"
    : "rope_parameters";
  if (scaling === null) return null;
  if (!isObject(scaling)) throw new TypeError(`${prefix}: ${key} must be an object or null`);
  const type = scaling.rope_type ?? scaling.type ?? "default";
  if (type === "default") return null;
  if (type !== "llama3") {
    throw new UnsupportedModelError(
      `${unsupported}: ${key} type ${JSON.stringify(type)} is not supported (only "llama3")`,
    );
  }
  const fields = new ConfigFields(scaling, prefix, `${key}.`);
  const scalingConfig = {
    factor: fields.positiveNumber("factor"),
    lowFreqFactor: fields.positiveNumber("low_freq_factor"),
    highFreqFactor: fields.positiveNumber("high_freq_factor"),
    originalMaxPositionEmbeddings: fields.positiveInteger("original_max_position_embeddings"),
  };
  if (scalingConfig.highFreqFactor <= scalingConfig.lowFreqFactor) {
    throw new RangeError(
      `${prefix}: ${key}.high_freq_factor ${scalingConfig.highFreqFactor} must exceed low_freq_factor ${scalingConfig.lowFreqFactor}`,
    );
  }
  return scalingConfig;
}

function readMaxPositions(architecture: Architecture, fields: ConfigFields): number {
  const maxPositions = fields.positiveInteger(
    "max_position_embeddings",
    DEFAULT_MAX_POSITIONS[architecture],
  );
  // ModelConfig has no sliding window. Capping the context at the window keeps every
  // supported length exact, since full attention equals windowed attention within it.
  const windowed = architecture === "mistral" || fields.boolean("use_sliding_window", false);
  if (!windowed) return maxPositions;
  const window = fields.optionalPositiveInteger("sliding_window");
  if (window === null) return maxPositions;
  return Math.min(maxPositions, window);
}

/** Typed access to a config object's fields, with errors that name the field and file. */
class ConfigFields {
  #json: Json;
  #prefix: string;
  #path: string;

  constructor(json: Json, prefix: string, path = "") {
    this.#json = json;
    this.#prefix = prefix;
    this.#path = path;
  }

  positiveInteger(key: string, fallback?: number): number {
    const value = this.#json[key];
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (value === undefined || value === null) throw this.#missing(key);
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw new TypeError(this.#message(key, "must be a positive integer", value));
    }
    if (value <= 0) throw new RangeError(this.#message(key, "must be a positive integer", value));
    return value;
  }

  optionalPositiveInteger(key: string): number | null {
    const value = this.#json[key];
    if (value === undefined || value === null) return null;
    return this.positiveInteger(key);
  }

  positiveNumber(key: string, fallback?: number): number {
    const value = this.#json[key];
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (value === undefined || value === null) throw this.#missing(key);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(this.#message(key, "must be a positive number", value));
    }
    if (value <= 0) throw new RangeError(this.#message(key, "must be a positive number", value));
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.#json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") {
      throw new TypeError(this.#message(key, "must be true or false", value));
    }
    return value;
  }

  optionalString(key: string): string | null {
    const value = this.#json[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") {
      throw new TypeError(this.#message(key, "must be a string", value));
    }
    return value;
  }

  optionalTokenId(key: string): number | null {
    const value = this.#json[key];
    if (value === undefined || value === null) return null;
    if (!isTokenId(value)) {
      throw new TypeError(this.#message(key, "must be a non-negative integer", value));
    }
    return value;
  }

  /** An id or a list of ids, as a list; null when absent. */
  tokenIds(key: string): number[] | null {
    const value = this.#json[key];
    if (value === undefined || value === null) return null;
    if (isTokenId(value)) return [value];
    if (Array.isArray(value) && value.every(isTokenId)) return [...value];
    throw new TypeError(
      this.#message(key, "must be a non-negative integer or a list of them", value),
    );
  }

  #missing(key: string): TypeError {
    return new TypeError(`${this.#prefix}: ${this.#path}${key} is missing`);
  }

  #message(key: string, requirement: string, value: unknown): string {
    return `${this.#prefix}: ${this.#path}${key} ${requirement}, got ${JSON.stringify(value)}`;
  }
}

function isTokenId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
