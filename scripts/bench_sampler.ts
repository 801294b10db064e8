/**
 * Prints how long `sample` takes per token over a Llama 3 sized vocabulary (128256) for a
 * peaked and a flat logits vector. Run: deno run scripts/bench_sampler.ts
 * @module
 */
import { sample, type SamplingParams, SeededRng } from "../lib/inference/sampler/mod.ts";

const VOCAB = 128256;
const ROUNDS = 200;

function gaussianLogits(rng: SeededRng, scale: number): Float32Array {
  const logits = new Float32Array(VOCAB);
  for (let i = 0; i < VOCAB; i++) {
    const u = 1 - rng.nextFloat();
    const v = rng.nextFloat();
    logits[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return logits;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const data = new SeededRng(1);
const shapes: [string, Float32Array][] = [
  ["peaked (std 4)", gaussianLogits(data, 4)],
  ["flat (std 0.5)", gaussianLogits(data, 0.5)],
];
const settings: [string, SamplingParams][] = [
  ["greedy", { temperature: 0, topP: 1, topK: 0 }],
  ["temperature 0.8", { temperature: 0.8, topP: 1, topK: 0 }],
  ["top-k 40", { temperature: 0.8, topP: 1, topK: 40 }],
  ["top-p 0.9", { temperature: 0.8, topP: 0.9, topK: 0 }],
  ["top-k 40 + top-p 0.9", { temperature: 0.8, topP: 0.9, topK: 40 }],
];

const rng = new SeededRng(2);
for (const [shapeName, logits] of shapes) {
  for (const [settingName, params] of settings) {
    // Warm-up rounds let the JIT compile the hot loops before anything is timed.
    for (let round = 0; round < 50; round++) sample(logits, params, rng);
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now();
      sample(logits, params, rng);
      times.push(performance.now() - start);
    }
    // deno-lint-ignore no-console
    console.log(
      `${shapeName.padEnd(16)} ${settingName.padEnd(22)} median ${median(times).toFixed(3)} ms`,
    );
  }
}
