import assert from "node:assert/strict";
import { CheckpointError } from "../../lib/model/checkpoint_error.ts";
import { CheckpointReader } from "../../lib/model/checkpoint_reader.ts";
import type { ModelConfig } from "../../lib/model/model_config.ts";
import {
  shardTensorNames,
  shardTensorShapes,
  verifyShardTensors,
} from "../../lib/model/shard_tensor_names.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";

const CONFIG: ModelConfig = {
  architecture: "llama",
  hiddenSize: 64,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 128,
  vocabSize: 300,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 4096,
  tieWordEmbeddings: false,
  attentionBias: false,
  qkNorm: false,
  bosTokenId: null,
  eosTokenIds: [],
  torchDtype: "float32",
};

function layerNames(layer: number, extra: string[] = []): string[] {
  const p = `model.layers.${layer}`;
  return [
    `${p}.input_layernorm.weight`,
    `${p}.self_attn.q_proj.weight`,
    `${p}.self_attn.k_proj.weight`,
    `${p}.self_attn.v_proj.weight`,
    ...extra.map((suffix) => `${p}.${suffix}`),
    `${p}.self_attn.o_proj.weight`,
    `${p}.post_attention_layernorm.weight`,
    `${p}.mlp.gate_proj.weight`,
    `${p}.mlp.up_proj.weight`,
    `${p}.mlp.down_proj.weight`,
  ];
}

Deno.test("shardTensorNames gives the first shard the embedding and its layers", () => {
  assert.deepEqual(shardTensorNames(CONFIG, 0, 1, true, false), [
    "model.embed_tokens.weight",
    ...layerNames(0),
    ...layerNames(1),
  ]);
});

Deno.test("shardTensorNames gives a middle shard only its layers", () => {
  assert.deepEqual(shardTensorNames(CONFIG, 2, 2, false, false), layerNames(2));
});

Deno.test("shardTensorNames gives the last shard the norm and an untied LM head", () => {
  assert.deepEqual(shardTensorNames(CONFIG, 3, 3, false, true), [
    ...layerNames(3),
    "model.norm.weight",
    "lm_head.weight",
  ]);
});

Deno.test("shardTensorNames gives a tied last shard the embedding instead of lm_head", () => {
  const tied = { ...CONFIG, tieWordEmbeddings: true };
  assert.deepEqual(shardTensorNames(tied, 3, 3, false, true), [
    "model.embed_tokens.weight",
    ...layerNames(3),
    "model.norm.weight",
  ]);
  assert.equal(
    shardTensorNames(tied, 0, 3, true, true).filter((n) => n === "model.embed_tokens.weight")
      .length,
    1,
  );
});

Deno.test("shardTensorNames adds qwen2 q/k/v biases and qwen3 q/k norms", () => {
  const qwen2 = { ...CONFIG, architecture: "qwen2", attentionBias: true } as const;
  assert.deepEqual(
    shardTensorNames(qwen2, 1, 1, false, false),
    layerNames(1, ["self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"]),
  );
  const qwen3 = { ...CONFIG, architecture: "qwen3", qkNorm: true } as const;
  assert.deepEqual(
    shardTensorNames(qwen3, 1, 1, false, false),
    layerNames(1, ["self_attn.q_norm.weight", "self_attn.k_norm.weight"]),
  );
});

Deno.test("shardTensorShapes gives Linear weights as [out, in]", () => {
  const shapes = shardTensorShapes({ ...CONFIG, attentionBias: true }, 0, 0, true, true);
  assert.deepEqual(shapes.get("model.embed_tokens.weight"), [300, 64]);
  assert.deepEqual(shapes.get("model.layers.0.self_attn.q_proj.weight"), [64, 64]);
  assert.deepEqual(shapes.get("model.layers.0.self_attn.k_proj.weight"), [32, 64]);
  assert.deepEqual(shapes.get("model.layers.0.self_attn.k_proj.bias"), [32]);
  assert.deepEqual(shapes.get("model.layers.0.self_attn.o_proj.weight"), [64, 64]);
  assert.deepEqual(shapes.get("model.layers.0.mlp.gate_proj.weight"), [128, 64]);
  assert.deepEqual(shapes.get("model.layers.0.mlp.down_proj.weight"), [64, 128]);
  assert.deepEqual(shapes.get("lm_head.weight"), [300, 64]);
});

Deno.test("shardTensorNames refuses a layer range outside the model", () => {
  for (const [start, end] of [[-1, 0], [2, 1], [0, 4], [0.5, 1]]) {
    assert.throws(() => shardTensorNames(CONFIG, start, end, true, false), RangeError);
  }
});

for (const architecture of ["llama", "mistral", "qwen2", "qwen3"] as const) {
  for (const tied of [false, true]) {
    Deno.test(
      `verifyShardTensors accepts every shard of a ${architecture} checkpoint${
        tied ? " with tied embeddings" : ""
      }, and the shards cover it exactly`,
      async () => {
        await withTempDir(async (dir) => {
          const { config } = await writeRandomCheckpoint(dir, {
            architecture,
            tieWordEmbeddings: tied,
            numLayers: 3,
            dtype: "F16",
            shards: 2,
          });
          const reader = await CheckpointReader.open(dir);
          try {
            const ranges = [
              { startLayer: 0, endLayer: 0, isFirst: true, isLast: false },
              { startLayer: 1, endLayer: 1, isFirst: false, isLast: false },
              { startLayer: 2, endLayer: 2, isFirst: false, isLast: true },
            ];
            const needed = new Set<string>();
            for (const range of ranges) {
              await verifyShardTensors(reader, config, range);
              const { startLayer, endLayer, isFirst, isLast } = range;
              for (const name of shardTensorNames(config, startLayer, endLayer, isFirst, isLast)) {
                needed.add(name);
              }
            }
            assert.deepEqual([...needed].sort(), reader.names().sort());
          } finally {
            reader.close();
          }
        });
      },
    );
  }
}

Deno.test("verifyShardTensors names the missing tensor when the config claims more layers", async () => {
  await withTempDir(async (dir) => {
    const { config } = await writeRandomCheckpoint(dir, {
      architecture: "llama",
      numLayers: 3,
      configOverrides: { num_hidden_layers: 5 },
    });
    assert.equal(config.numLayers, 5);
    const reader = await CheckpointReader.open(dir);
    try {
      await verifyShardTensors(reader, config, {
        startLayer: 0,
        endLayer: 2,
        isFirst: true,
        isLast: false,
      });
      await assert.rejects(
        verifyShardTensors(reader, config, {
          startLayer: 3,
          endLayer: 4,
          isFirst: false,
          isLast: true,
        }),
        new CheckpointError(
          `Cannot read checkpoint ${dir}: tensor model.layers.3.input_layernorm.weight is missing`,
        ),
      );
    } finally {
      reader.close();
    }
  });
});

Deno.test("verifyShardTensors names a tensor whose shape disagrees with the config", async () => {
  await withTempDir(async (dir) => {
    const { config } = await writeRandomCheckpoint(dir, {
      architecture: "llama",
      numLayers: 2,
      configOverrides: { intermediate_size: 96 },
    });
    const reader = await CheckpointReader.open(dir);
    try {
      await assert.rejects(
        verifyShardTensors(reader, config, {
          startLayer: 0,
          endLayer: 1,
          isFirst: true,
          isLast: true,
        }),
        new CheckpointError(
          `Cannot use checkpoint ${dir}: tensor model.layers.0.mlp.gate_proj.weight has shape [128, 64], but the config needs [96, 64]`,
        ),
      );
    } finally {
      reader.close();
    }
  });
});
