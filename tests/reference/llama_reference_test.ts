import assert from "node:assert/strict";
import type { ModelConfig } from "../../lib/model/model_config.ts";
import {
  loadReferenceWeights,
  referenceEmbed,
  referenceForward,
  type ReferenceLayer,
  referenceLayers,
  referenceLogits,
  type ReferenceWeights,
  ropeInverseFrequencies,
} from "./llama_reference.ts";
import { writeRandomCheckpoint } from "../fixtures/make_checkpoint.ts";
import { SeededRandom } from "../fixtures/seeded_random.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";

const TINY: ModelConfig = {
  architecture: "llama",
  hiddenSize: 16,
  numLayers: 1,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  intermediateSize: 24,
  vocabSize: 11,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 256,
  tieWordEmbeddings: false,
  attentionBias: false,
  qkNorm: false,
  bosTokenId: null,
  eosTokenIds: [],
  torchDtype: "float64",
};

/** Random float64 weights for `config`, built in memory. */
function randomWeights(config: ModelConfig, seed = 7): ReferenceWeights {
  const random = new SeededRandom(seed);
  const { hiddenSize: h, numHeads, numKvHeads, headDim, intermediateSize, vocabSize } = config;
  const tensor = (size: number, center = 0, spread = 0.5) =>
    Float64Array.from({ length: size }, () => center + spread * random.nextSigned());
  const layer = (): ReferenceLayer => ({
    inputLayernorm: tensor(h, 1, 0.2),
    qProj: tensor(numHeads * headDim * h),
    kProj: tensor(numKvHeads * headDim * h),
    vProj: tensor(numKvHeads * headDim * h),
    qBias: config.attentionBias ? tensor(numHeads * headDim) : null,
    kBias: config.attentionBias ? tensor(numKvHeads * headDim) : null,
    vBias: config.attentionBias ? tensor(numKvHeads * headDim) : null,
    qNorm: config.qkNorm ? tensor(headDim, 1, 0.2) : null,
    kNorm: config.qkNorm ? tensor(headDim, 1, 0.2) : null,
    oProj: tensor(h * numHeads * headDim, 0, 0.3),
    postAttentionLayernorm: tensor(h, 1, 0.2),
    gateProj: tensor(intermediateSize * h),
    upProj: tensor(intermediateSize * h),
    downProj: tensor(h * intermediateSize, 0, 0.3),
  });
  const embedTokens = tensor(vocabSize * h, 0, 1);
  return {
    config,
    embedTokens,
    layers: Array.from({ length: config.numLayers }, layer),
    norm: tensor(h, 1, 0.2),
    lmHead: config.tieWordEmbeddings ? embedTokens : tensor(vocabSize * h, 0, 1),
  };
}

/**
 * A second forward pass written differently on purpose: whole matrices, an explicit causal
 * mask, RoPE as complex multiplication, KV heads chosen as floor(h * kvHeads / heads).
 */
function independentForward(
  w: ReferenceWeights,
  c: ModelConfig,
  tokens: number[],
  invFreq: Float64Array,
): number[][] {
  const H = c.hiddenSize, D = c.headDim, T = tokens.length;
  const norm = (x: number[], g: ArrayLike<number>) => {
    const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + c.rmsNormEps);
    return x.map((v, i) => (v / rms) * g[i]);
  };
  const affine = (W: Float64Array, b: Float64Array | null, x: number[]) => {
    const outputs = W.length / x.length;
    return Array.from(
      { length: outputs },
      (_, o) => x.reduce((s, v, i) => s + W[o * x.length + i] * v, b ? b[o] : 0),
    );
  };
  const heads = (row: number[], n: number) =>
    Array.from({ length: n }, (_, h) => row.slice(h * D, (h + 1) * D));
  const rope = (x: number[], pos: number) => {
    const out = x.slice();
    for (let j = 0; j < D / 2; j++) {
      const [re, im] = [x[j], x[j + D / 2]];
      const [cr, ci] = [Math.cos(pos * invFreq[j]), Math.sin(pos * invFreq[j])];
      out[j] = re * cr - im * ci;
      out[j + D / 2] = re * ci + im * cr;
    }
    return out;
  };

  let X = tokens.map((t) => Array.from(w.embedTokens.subarray(t * H, (t + 1) * H)));
  for (const L of w.layers) {
    const A = X.map((x) => norm(x, L.inputLayernorm));
    const prep = (W: Float64Array, b: Float64Array | null, n: number, g: Float64Array | null) =>
      A.map((a, t) => heads(affine(W, b, a), n).map((x) => rope(g ? norm(x, g) : x, t)));
    const Q = prep(L.qProj, L.qBias, c.numHeads, L.qNorm); // [T][heads][D]
    const K = prep(L.kProj, L.kBias, c.numKvHeads, L.kNorm); // [T][kvHeads][D]
    const V = A.map((a) => heads(affine(L.vProj, L.vBias, a), c.numKvHeads));
    const attention = X.map((_, t) =>
      Q[t].flatMap((q, h) => {
        const g = Math.floor((h * c.numKvHeads) / c.numHeads);
        const scores = K.map((k, s) =>
          s > t ? -Infinity : q.reduce((sum, v, d) => sum + v * k[g][d], 0) / Math.sqrt(D)
        );
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        return Array.from({ length: D }, (_, d) =>
          e.reduce((s, p, u) => s + (p / z) * V[u][g][d], 0));
      })
    );
    const H1 = X.map((x, t) => affine(L.oProj, null, attention[t]).map((v, i) => v + x[i]));
    X = H1.map((h1) => {
      const a = norm(h1, L.postAttentionLayernorm);
      const gate = affine(L.gateProj, null, a);
      const up = affine(L.upProj, null, a);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      return affine(L.downProj, null, act).map((v, i) => v + h1[i]);
    });
  }
  assert.equal(X.length, T);
  return X.map((x) => affine(w.lmHead, null, norm(x, w.norm)));
}

function assertClose(
  actual: ArrayLike<number>[],
  expected: ArrayLike<number>[],
  tolerance: number,
) {
  assert.equal(actual.length, expected.length);
  for (let t = 0; t < actual.length; t++) {
    assert.equal(actual[t].length, expected[t].length);
    for (let i = 0; i < actual[t].length; i++) {
      const error = Math.abs(actual[t][i] - expected[t][i]);
      if (!(error <= tolerance * Math.max(1, Math.abs(expected[t][i])))) {
        assert.fail(`position ${t} index ${i}: ${actual[t][i]} vs ${expected[t][i]}`);
      }
    }
  }
}

const TOKENS = [3, 1, 4, 1, 5, 9, 2, 6];

const VARIANTS: [string, ModelConfig][] = [
  ["llama", TINY],
  [
    "llama with llama3 rope scaling",
    {
      ...TINY,
      ropeScaling: {
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 64,
      },
    },
  ],
  ["qwen2 with biases", { ...TINY, architecture: "qwen2", attentionBias: true }],
  ["qwen3 with q/k norms and tied embeddings", {
    ...TINY,
    architecture: "qwen3",
    qkNorm: true,
    tieWordEmbeddings: true,
  }],
];

for (const [name, config] of VARIANTS) {
  Deno.test(`referenceForward matches an independent computation: ${name}`, () => {
    const weights = randomWeights(config);
    const expected = independentForward(weights, config, TOKENS, ropeInverseFrequencies(config));
    assertClose(referenceForward(weights, config, TOKENS), expected, 1e-12);
  });
}

Deno.test("ropeInverseFrequencies applies llama3 scaling band by band", () => {
  const scaled = ropeInverseFrequencies({
    ...TINY,
    ropeScaling: {
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 64,
    },
  });
  // Base frequencies 1, 0.1, 0.01, 0.001 have wavelengths 2π·(1, 10, 100, 1000); with an
  // original context of 64 the bands are: below 16 kept, above 64 divided by 8, between
  // interpolated with smooth = (64 / wavelength - 1) / (4 - 1).
  const smooth = (64 / (20 * Math.PI) - 1) / 3;
  const expected = [1, (1 - smooth) * 0.1 / 8 + smooth * 0.1, 0.01 / 8, 0.001 / 8];
  assertClose([scaled], [expected], 1e-14);
  assertClose([ropeInverseFrequencies(TINY)], [[1, 0.1, 0.01, 0.001]], 1e-14);
});

Deno.test("referenceForward is causal: a position ignores the tokens after it", () => {
  const weights = randomWeights({ ...TINY, numLayers: 2 });
  const a = referenceForward(weights, weights.config, [1, 2, 3, 4, 5]);
  const b = referenceForward(weights, weights.config, [1, 2, 3, 9, 0, 7]);
  assert.deepEqual(a.slice(0, 3), b.slice(0, 3));
  assert.notDeepEqual(a[3], b[3]);
});

Deno.test("referenceForward position changes the result through RoPE", () => {
  const weights = randomWeights(TINY);
  const [, second] = referenceForward(weights, TINY, [5, 5]);
  const [, shifted] = referenceForward(weights, { ...TINY, ropeTheta: 500 }, [5, 5]);
  assert.notDeepEqual(second, shifted);
});

Deno.test("referenceForward maps query heads to KV heads as grouped-query attention does", () => {
  const gqa = randomWeights({ ...TINY, numLayers: 2 });
  const mhaConfig = { ...gqa.config, numKvHeads: gqa.config.numHeads };
  const D = TINY.headDim, H = TINY.hiddenSize, group = TINY.numHeads / TINY.numKvHeads;
  // Each KV head repeated for the query heads that share it gives plain multi-head attention.
  const repeat = (w: Float64Array) =>
    Float64Array.from({ length: TINY.numHeads * D * H }, (_, i) => {
      const head = Math.floor(i / (D * H));
      return w[Math.floor(head / group) * D * H + (i % (D * H))];
    });
  const mha: ReferenceWeights = {
    ...gqa,
    config: mhaConfig,
    layers: gqa.layers.map((l) => ({ ...l, kProj: repeat(l.kProj), vProj: repeat(l.vProj) })),
  };
  assertClose(
    referenceForward(mha, mhaConfig, TOKENS),
    referenceForward(gqa, gqa.config, TOKENS),
    1e-12,
  );
});

Deno.test("referenceForward normalizes qwen3 queries per head, so their scale is irrelevant", () => {
  const config = { ...TINY, architecture: "qwen3", qkNorm: true, rmsNormEps: 1e-300 } as const;
  const weights = randomWeights(config);
  const scaled = {
    ...weights,
    layers: weights.layers.map((l) => ({ ...l, qProj: l.qProj.map((v) => v * 5) })),
  };
  assertClose(
    referenceForward(scaled, config, TOKENS),
    referenceForward(weights, config, TOKENS),
    1e-12,
  );
  const llama = randomWeights(TINY);
  const llamaScaled = {
    ...llama,
    layers: llama.layers.map((l) => ({ ...l, qProj: l.qProj.map((v) => v * 5) })),
  };
  assert.notDeepEqual(
    referenceForward(llamaScaled, TINY, TOKENS),
    referenceForward(llama, TINY, TOKENS),
  );
});

Deno.test("referenceLayers over consecutive ranges equals one pass over all layers", () => {
  const weights = randomWeights({ ...TINY, numLayers: 4 });
  const c = weights.config;
  const embedded = referenceEmbed(weights, c, TOKENS);
  const whole = referenceLayers(weights, c, embedded, 0, 3);
  const split = referenceLayers(weights, c, referenceLayers(weights, c, embedded, 0, 1), 2, 3);
  assert.deepEqual(split, whole);
  assert.deepEqual(referenceLogits(weights, c, whole), referenceForward(weights, c, TOKENS));
  assert.deepEqual(embedded[0], weights.embedTokens.slice(3 * 16, 4 * 16));
});

Deno.test("referenceEmbed refuses a token outside the vocabulary", () => {
  const weights = randomWeights(TINY);
  assert.throws(() => referenceEmbed(weights, TINY, [0, 11]), RangeError);
  assert.throws(() => referenceEmbed(weights, TINY, [-1]), RangeError);
});

Deno.test("loadReferenceWeights gives the same logits from sharded and single checkpoints", async () => {
  await withTempDir(async (dir) => {
    const spec = { architecture: "qwen2", numLayers: 2, dtype: "BF16" } as const;
    await writeRandomCheckpoint(`${dir}/single`, spec);
    await writeRandomCheckpoint(`${dir}/sharded`, { ...spec, shards: 3 });
    const single = await loadReferenceWeights(`${dir}/single`);
    const sharded = await loadReferenceWeights(`${dir}/sharded`);
    const tokens = [300, 17, 42, 5];
    const logits = referenceForward(single, single.config, tokens);
    assert.deepEqual(referenceForward(sharded, sharded.config, tokens), logits);
    // Random weights are scaled so logits spread: greedy decoding has a clear winner.
    for (const row of logits) {
      const mean = row.reduce((a, b) => a + b, 0) / row.length;
      const std = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length);
      assert.ok(std > 1 && std < 10, `logit std ${std}`);
      assert.ok(row.every(Number.isFinite));
    }
  });
});
