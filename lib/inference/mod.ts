/**
 * Inference: the {@linkcode InferenceEngine} the cluster drives (one shard per process, KV
 * caches per request), its ONNX Runtime implementation {@linkcode OnnxEngine} over
 * {@linkcode ShardRunner}, single-node {@linkcode generate}, tokenizers and sampling.
 *
 * @example Usage
 * ```ts
 * import { generate, ModelTokenizer, OnnxEngine } from "./mod.ts";
 *
 * const engine = new OnnxEngine({ cacheDir: "/tmp/shards" });
 * const shard = await engine.loadShard({
 *   modelDir, startLayer: 0, endLayer: 15, dtype: "q4", executionProvider: "cpu",
 * });
 * const tokenizer = await ModelTokenizer.load(modelDir);
 * for await (const text of generate({ engine, tokenizer, input: { prompt: "Hi" }, maxTokens: 32 })) {
 *   write(text);
 * }
 * await engine.dispose();
 * ```
 * @module
 */
export * from "./engine.ts";
export * from "./generate.ts";
export {
  type ShardInput,
  type ShardOutput,
  ShardRunner,
  type ShardRunnerOptions,
} from "./shard_runner.ts";
export * from "./sampler/mod.ts";
export * from "./tokenizer/mod.ts";
