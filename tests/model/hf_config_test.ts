import assert from "node:assert/strict";
import {
  loadModelConfig,
  mergeGenerationConfig,
  parseModelConfig,
} from "../../lib/model/hf_config.ts";
import { UnsupportedModelError } from "../../lib/model/unsupported_model_error.ts";

const SOURCE = "/models/x/config.json";

/** Llama-3.2-1B-Instruct's config.json. */
const LLAMA_32_1B = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-05,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.45.0.dev0",
  use_cache: true,
  vocab_size: 128256,
};

/** Qwen2.5-0.5B-Instruct's config.json. */
const QWEN25_05B = {
  architectures: ["Qwen2ForCausalLM"],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: "silu",
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  model_type: "qwen2",
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-06,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

/** Qwen3-0.6B's config.json. */
const QWEN3_06B = {
  architectures: ["Qwen3ForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: "silu",
  hidden_size: 1024,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: "qwen3",
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-06,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

/** Mistral-7B-Instruct-v0.1's config.json. */
const MISTRAL_7B_V01 = {
  architectures: ["MistralForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: "mistral",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-05,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
  vocab_size: 32000,
};

function withField(base: Record<string, unknown>, key: string, value: unknown) {
  const copy: Record<string, unknown> = { ...base, [key]: value };
  if (value === undefined) delete copy[key];
  return copy;
}

function assertThrowsMessage(
  fn: () => unknown,
  type: new (...args: never[]) => Error,
  fragment: string,
) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    assert.ok(error.message.includes(SOURCE), `"${error.message}" does not name the file`);
    return true;
  });
}

Deno.test("parseModelConfig reads Llama 3.2 with llama3 rope scaling and an eos list", () => {
  assert.deepEqual(parseModelConfig(LLAMA_32_1B, SOURCE), {
    architecture: "llama",
    hiddenSize: 2048,
    numLayers: 16,
    numHeads: 32,
    numKvHeads: 8,
    headDim: 64,
    intermediateSize: 8192,
    vocabSize: 128256,
    rmsNormEps: 1e-5,
    ropeTheta: 500000,
    ropeScaling: {
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    },
    maxPositionEmbeddings: 131072,
    tieWordEmbeddings: true,
    attentionBias: false,
    qkNorm: false,
    bosTokenId: 128000,
    eosTokenIds: [128001, 128008, 128009],
    torchDtype: "bfloat16",
  });
});

Deno.test("parseModelConfig gives qwen2 attention biases and derives head_dim", () => {
  const config = parseModelConfig(QWEN25_05B, SOURCE);
  assert.deepEqual(config.architecture, "qwen2");
  assert.deepEqual(config.attentionBias, true);
  assert.deepEqual(config.qkNorm, false);
  assert.deepEqual(config.headDim, 64);
  assert.deepEqual(config.numKvHeads, 2);
  assert.deepEqual(config.eosTokenIds, [151645]);
  assert.deepEqual(config.ropeScaling, null);
  assert.deepEqual(config.maxPositionEmbeddings, 32768);
});

Deno.test("parseModelConfig gives qwen3 q/k norms and its explicit head_dim", () => {
  const config = parseModelConfig(QWEN3_06B, SOURCE);
  assert.deepEqual(config.architecture, "qwen3");
  assert.deepEqual(config.qkNorm, true);
  assert.deepEqual(config.attentionBias, false);
  assert.deepEqual(config.headDim, 128);
  assert.deepEqual(config.hiddenSize, 1024);
});

Deno.test("parseModelConfig caps mistral's context at its sliding window", () => {
  const config = parseModelConfig(MISTRAL_7B_V01, SOURCE);
  assert.deepEqual(config.architecture, "mistral");
  assert.deepEqual(config.maxPositionEmbeddings, 4096);
  assert.deepEqual(config.headDim, 128);
  assert.deepEqual(
    parseModelConfig({ ...MISTRAL_7B_V01, sliding_window: null }, SOURCE).maxPositionEmbeddings,
    32768,
  );
});

Deno.test("parseModelConfig applies defaults for optional fields", () => {
  const minimal = {
    model_type: "llama",
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    vocab_size: 300,
  };
  const config = parseModelConfig(minimal, SOURCE);
  assert.deepEqual(config.numKvHeads, 4);
  assert.deepEqual(config.headDim, 16);
  assert.deepEqual(config.rmsNormEps, 1e-6);
  assert.deepEqual(config.ropeTheta, 10000);
  assert.deepEqual(config.maxPositionEmbeddings, 2048);
  assert.deepEqual(config.tieWordEmbeddings, false);
  assert.deepEqual(config.bosTokenId, null);
  assert.deepEqual(config.eosTokenIds, []);
  assert.deepEqual(config.torchDtype, "unknown");
});

Deno.test("parseModelConfig falls back to architectures when model_type is absent", () => {
  const config = parseModelConfig(withField(QWEN3_06B, "model_type", undefined), SOURCE);
  assert.deepEqual(config.architecture, "qwen3");
});

Deno.test("parseModelConfig reads transformers 5 rope_parameters", () => {
  const json = withField(LLAMA_32_1B, "rope_scaling", undefined);
  delete json.rope_theta;
  json.rope_parameters = { ...LLAMA_32_1B.rope_scaling, rope_theta: 500000 };
  const config = parseModelConfig(json, SOURCE);
  assert.deepEqual(config.ropeTheta, 500000);
  assert.deepEqual(config.ropeScaling?.factor, 32);
  const plain = { ...QWEN3_06B, rope_parameters: { rope_type: "default", rope_theta: 5e6 } };
  delete (plain as Record<string, unknown>).rope_theta;
  assert.deepEqual(parseModelConfig(plain, SOURCE).ropeTheta, 5e6);
  assert.deepEqual(parseModelConfig(plain, SOURCE).ropeScaling, null);
});

Deno.test("parseModelConfig accepts the legacy rope_scaling type key", () => {
  const json = {
    ...LLAMA_32_1B,
    rope_scaling: { ...LLAMA_32_1B.rope_scaling, rope_type: undefined, type: "llama3" },
  };
  assert.deepEqual(parseModelConfig(json, SOURCE).ropeScaling?.lowFreqFactor, 1);
});

Deno.test("parseModelConfig names a missing required field and the file", () => {
  for (
    const key of [
      "hidden_size",
      "num_hidden_layers",
      "num_attention_heads",
      "intermediate_size",
      "vocab_size",
    ]
  ) {
    assertThrowsMessage(
      () => parseModelConfig(withField(LLAMA_32_1B, key, undefined), SOURCE),
      TypeError,
      `${key} is missing`,
    );
  }
});

Deno.test("parseModelConfig refuses ill-typed and out-of-range fields", () => {
  const cases: [string, unknown, new (...args: never[]) => Error, string][] = [
    ["num_hidden_layers", "16", TypeError, "num_hidden_layers must be a positive integer"],
    ["num_hidden_layers", 0, RangeError, "num_hidden_layers must be a positive integer"],
    ["num_hidden_layers", 2.5, TypeError, "num_hidden_layers must be a positive integer"],
    ["hidden_size", -1, RangeError, "hidden_size must be a positive integer"],
    ["num_key_value_heads", 5, RangeError, "not a multiple of num_key_value_heads 5"],
    ["head_dim", 63, RangeError, "head_dim 63 must be even"],
    ["rms_norm_eps", "1e-5", TypeError, "rms_norm_eps must be a positive number"],
    ["rope_theta", 0, RangeError, "rope_theta must be a positive number"],
    ["tie_word_embeddings", "yes", TypeError, "tie_word_embeddings must be true or false"],
    ["eos_token_id", "2", TypeError, "eos_token_id must be a non-negative integer or a list"],
    ["eos_token_id", [1, -2], TypeError, "eos_token_id must be a non-negative integer or a list"],
    ["bos_token_id", 1.5, TypeError, "bos_token_id must be a non-negative integer"],
    ["model_type", 7, TypeError, "model_type must be a string"],
    ["rope_scaling", "llama3", TypeError, "rope_scaling must be an object or null"],
    ["max_position_embeddings", 0, RangeError, "max_position_embeddings must be a positive"],
  ];
  for (const [key, value, type, fragment] of cases) {
    assertThrowsMessage(
      () => parseModelConfig(withField(LLAMA_32_1B, key, value), SOURCE),
      type,
      fragment,
    );
  }
});

Deno.test("parseModelConfig refuses hidden_size not divisible by heads without head_dim", () => {
  const json = { ...withField(LLAMA_32_1B, "head_dim", undefined), hidden_size: 2050 };
  assertThrowsMessage(
    () => parseModelConfig(json, SOURCE),
    RangeError,
    "hidden_size 2050 is not a multiple",
  );
});

Deno.test("parseModelConfig checks the llama3 rope_scaling fields", () => {
  const scaling = LLAMA_32_1B.rope_scaling;
  assertThrowsMessage(
    () =>
      parseModelConfig({ ...LLAMA_32_1B, rope_scaling: { ...scaling, factor: undefined } }, SOURCE),
    TypeError,
    "rope_scaling.factor is missing",
  );
  assertThrowsMessage(
    () =>
      parseModelConfig(
        { ...LLAMA_32_1B, rope_scaling: { ...scaling, low_freq_factor: -1 } },
        SOURCE,
      ),
    RangeError,
    "rope_scaling.low_freq_factor must be a positive number",
  );
  assertThrowsMessage(
    () =>
      parseModelConfig(
        { ...LLAMA_32_1B, rope_scaling: { ...scaling, high_freq_factor: 1 } },
        SOURCE,
      ),
    RangeError,
    "high_freq_factor 1 must exceed low_freq_factor 1",
  );
});

Deno.test("parseModelConfig reports unsupported models as UnsupportedModelError", () => {
  const cases: [Record<string, unknown>, string][] = [
    [
      { ...LLAMA_32_1B, model_type: "gemma2", architectures: ["Gemma2ForCausalLM"] },
      'Cannot run the model of /models/x/config.json: model_type "gemma2" (Gemma2ForCausalLM) is not supported: this build runs llama, mistral, qwen2, qwen3',
    ],
    [
      { ...withField(LLAMA_32_1B, "model_type", undefined), architectures: ["PhiForCausalLM"] },
      "architecture PhiForCausalLM is not supported",
    ],
    [
      { ...LLAMA_32_1B, rope_scaling: { type: "yarn", factor: 4 } },
      'rope_scaling type "yarn" is not supported',
    ],
    [
      { ...LLAMA_32_1B, rope_scaling: { type: "linear", factor: 2 } },
      'rope_scaling type "linear" is not supported',
    ],
    [{ ...LLAMA_32_1B, hidden_act: "gelu" }, 'hidden_act "gelu" is not supported'],
    [{ ...LLAMA_32_1B, attention_bias: true }, "attention_bias true is not supported for llama"],
    [{ ...LLAMA_32_1B, mlp_bias: true }, "mlp_bias true is not supported for llama"],
    [{ ...QWEN3_06B, attention_bias: true }, "attention_bias true is not supported for qwen3"],
    [{ ...LLAMA_32_1B, partial_rotary_factor: 0.5 }, "partial_rotary_factor 0.5 is not supported"],
    [
      { ...LLAMA_32_1B, quantization_config: { quant_method: "awq" } },
      "quantization_config is not supported",
    ],
  ];
  for (const [json, fragment] of cases) {
    assertThrowsMessage(() => parseModelConfig(json, SOURCE), UnsupportedModelError, fragment);
  }
});

Deno.test("parseModelConfig refuses a config that is not an object", () => {
  for (const json of [null, [], "llama", 3]) {
    assertThrowsMessage(() => parseModelConfig(json, SOURCE), TypeError, "not a JSON object");
  }
});

Deno.test("mergeGenerationConfig replaces eos with the generation config's id or list", () => {
  const config = parseModelConfig({ ...LLAMA_32_1B, eos_token_id: 128001 }, SOURCE);
  assert.deepEqual(
    mergeGenerationConfig(config, { eos_token_id: [128001, 128009] }, "g").eosTokenIds,
    [
      128001,
      128009,
    ],
  );
  assert.deepEqual(
    mergeGenerationConfig(config, { eos_token_id: 7, bos_token_id: 3 }, "g").eosTokenIds,
    [7],
  );
  assert.deepEqual(mergeGenerationConfig(config, { bos_token_id: 3 }, "g").bosTokenId, 3);
  assert.deepEqual(mergeGenerationConfig(config, { temperature: 0.6 }, "g"), config);
  assert.throws(
    () => mergeGenerationConfig(config, { eos_token_id: "x" }, "/m/generation_config.json"),
    /Cannot read generation config \/m\/generation_config.json: eos_token_id must be/,
  );
});

Deno.test("loadModelConfig merges generation_config.json when present", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ ...LLAMA_32_1B, eos_token_id: 128001 }),
    );
    assert.deepEqual((await loadModelConfig(dir)).eosTokenIds, [128001]);
    await Deno.writeTextFile(
      `${dir}/generation_config.json`,
      JSON.stringify({ eos_token_id: [128001, 128009] }),
    );
    assert.deepEqual((await loadModelConfig(dir)).eosTokenIds, [128001, 128009]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadModelConfig reports invalid JSON as a SyntaxError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config.json`, "{ not json");
    await assert.rejects(loadModelConfig(dir), (error: unknown) => {
      assert.ok(error instanceof SyntaxError);
      assert.match(error.message, new RegExp(`^Cannot read model config ${dir}/config.json: `));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
