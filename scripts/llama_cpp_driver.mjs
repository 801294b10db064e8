// A Node.js driver that runs llama.cpp through node-llama-cpp's prebuilt binaries, for
// bench:engine --vs-llama-cpp and the GGUF tests. Started as
//   node scripts/llama_cpp_driver.mjs '<json request>'
// by scripts/_llama_cpp_node.ts, which installs node-llama-cpp into `packageDir` first.
// It prints one JSON line on stdout; llama.cpp's own log goes to stderr.
//
// Request: {packageDir, model, threads, gpu: "cpu" | "metal",
//           verify?: {tokens, from, top},
//           bench?: {promptTokens, decodeTokens, firstToken}}
// - verify: evaluates `tokens` from an empty context and, for each position from `from` on,
//   returns the `top` most likely next tokens with their log-probabilities (a full softmax
//   at temperature 1, no filtering), so a caller can compare them with its own logits.
// - bench: what llama-bench's pp/tg measure: the prompt evaluated from an empty context
//   (tokens/s; then `decodeTokens` greedy tokens after it, which llama-bench does not
//   measure), then greedy decoding of `decodeTokens` tokens after the one-token prompt
//   `firstToken` (tokens/s; the first token's own evaluation is not timed), after a warm-up.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const request = JSON.parse(process.argv[2]);
const entry = join(request.packageDir, "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);

const onCpu = request.gpu === "cpu";
const started = performance.now();
const llama = await getLlama({
  gpu: onCpu ? false : request.gpu,
  build: "never",
  skipDownload: true,
  progressLogs: false,
  logLevel: LlamaLogLevel.warn,
  maxThreads: request.threads,
});
const model = await llama.loadModel({ modelPath: request.model, gpuLayers: onCpu ? 0 : "max" });
const loadMs = performance.now() - started;

const promptLength = request.bench?.promptTokens.length ?? 0;
const needed = Math.max(
  promptLength + (request.bench?.decodeTokens ?? 0) + 2,
  request.verify?.tokens.length ?? 0,
  16,
);
const context = await model.createContext({
  contextSize: needed + 16,
  batchSize: Math.max(promptLength, request.verify?.tokens.length ?? 0, 32),
  threads: { ideal: request.threads, min: request.threads },
  // llama-bench's default: flash attention where the backend has it.
  flashAttention: "auto",
  sequences: 1,
});
const sequence = context.getSequence();

const result = {
  loadMs,
  llamaCpp: {
    release: llama.llamaCppRelease.release,
    buildType: llama.buildType,
    gpu: llama.gpu,
  },
};

if (request.verify) {
  const { tokens, from, top } = request.verify;
  const input = tokens.map((token, i) =>
    i >= from
      ? [token, {
        generateNext: {
          probabilities: true,
          options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
        },
      }]
      : token
  );
  const outputs = await sequence.controlledEvaluate(input);
  result.verify = [];
  for (let i = from; i < tokens.length; i++) {
    const probabilities = outputs[i]?.next.probabilities;
    if (!probabilities) throw new Error(`llama.cpp gave no probabilities at position ${i}`);
    const best = [...probabilities.entries()].slice(0, top).map(([id, p]) => [id, Math.log(p)]);
    result.verify.push(best);
  }
  await sequence.clearHistory();
}

/**
 * Greedy decoding of `count` tokens after the sequence so far and `token`; ms for those
 * `count`.
 */
async function decode(token, count) {
  const generator = sequence.evaluate([token], { temperature: 0 });
  const first = await generator.next(); // evaluates the prompt token: not timed
  if (first.done) throw new Error("llama.cpp stopped before the first token");
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const next = await generator.next();
    if (next.done) throw new Error(`llama.cpp stopped after ${i} of ${count} tokens`);
  }
  const ms = performance.now() - start;
  await generator.return();
  return ms;
}

if (request.bench) {
  const { promptTokens, decodeTokens, firstToken } = request.bench;
  // Warm-up, as llama-bench does one before measuring.
  await sequence.evaluateWithoutGeneratingNewTokens(promptTokens.slice(0, 8));
  await decode(firstToken, 2);
  await sequence.clearHistory();

  const start = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(promptTokens);
  const prefillMs = performance.now() - start;
  // Then decoding after that prompt, as a chat reply does (llama-bench does not measure it).
  const afterPromptMs = await decode(firstToken, decodeTokens);
  await sequence.clearHistory();

  const decodeMs = await decode(firstToken, decodeTokens);
  await sequence.clearHistory();
  result.bench = {
    prefillTokensPerSecond: promptTokens.length / (prefillMs / 1000),
    decodeTokensPerSecond: decodeTokens / (decodeMs / 1000),
    afterPromptDecodeTokensPerSecond: decodeTokens / (afterPromptMs / 1000),
  };
}

await context.dispose();
await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(result) + "\n");
