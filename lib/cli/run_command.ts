import { join, resolve } from "node:path";
import type { Logger } from "../log/logger.ts";
import { loadModelConfig } from "../model/hf_config.ts";
import { MODEL_CARDS } from "../model/registry.ts";
import { ModelNotFoundError } from "../model/model_not_found_error.ts";
import type { ModelResolver } from "../model/model_resolver.ts";
import { autoProviderOptions, defaultDType, OnnxEngine } from "../inference/engine.ts";
import { generate, type GenerateResult } from "../inference/generate.ts";
import { ModelTokenizer } from "../inference/tokenizer/model_tokenizer.ts";
import type { NodeOptions } from "./node_options.ts";
import { detectPerformanceCores } from "../topology/performance_cores.ts";
import { detectCapabilities } from "../topology/detect_capabilities.ts";

/** Where `run` sends its output. */
export interface RunCommandIo {
  /** Progress, the execution provider and speed go here (stderr). */
  logger: Logger;
  /** Each piece of the completion, as it is generated (stdout). */
  write(text: string): void;
  /** Stdout is a terminal: end the completion with a newline so the shell prompt starts afresh. */
  terminal?: boolean;
  /** Finds (and downloads) models named by registry or hub repo id; without it, directories only. */
  models?: ModelResolver;
  /**
   * The folder the user ran the command in (see `userDirectory`): a bare name that is a
   * directory there (`run my-model`) is that directory. Default: the process's folder.
   */
  userDir?: string;
}

/**
 * `exo-node run <model> --prompt ...`: loads every layer of a model into one shard, answers
 * the prompt as a user chat message with greedy decoding (exo's default temperature 0) and
 * streams the completion to `io.write`. The model is a local directory, or with `io.models`
 * a registry id or hub repo id, downloaded when missing. Resolves to the exit status: 0, or
 * 1 after logging one line for any error.
 */
export async function runCommand(options: NodeOptions, io: RunCommandIo): Promise<number> {
  const engine = new OnnxEngine({
    cacheDir: options.cacheDir ?? join(options.stateDir, "shards"),
    threads: options.threads ?? (await detectPerformanceCores()).cores,
    auto: autoProviderOptions(
      options.stateDir,
      (await detectCapabilities({ chip: options.deviceChip })).chip,
      options.reprobe,
    ),
    logger: io.logger.child("engine"),
  });
  try {
    const result = await answer(options, engine, io);
    if (io.terminal) io.write("\n");
    const seconds = result.decodeMs / 1000;
    const decoded = result.completionTokens - 1;
    io.logger.info(
      `Generated ${result.completionTokens} tokens (finish reason ${result.finishReason}); ` +
        `prompt ${result.promptTokens} tokens and first token in ${
          result.prefillMs.toFixed(0)
        } ms; ` +
        `${decoded > 0 && seconds > 0 ? (decoded / seconds).toFixed(1) : "-"} tokens/s`,
    );
    return 0;
  } catch (error) {
    let message = error instanceof Error ? error.message : String(error);
    if (error instanceof ModelNotFoundError && error.unknownName) {
      message += `; registry ids: ${[...MODEL_CARDS.keys()].join(", ")}`;
    }
    const line = message.startsWith("Cannot ")
      ? message
      : `Cannot run model ${options.model}: ${message}`;
    io.logger.error(line.replace(/\s*\n\s*/g, " "));
    return 1;
  } finally {
    await engine.dispose();
  }
}

async function answer(
  options: NodeOptions,
  engine: OnnxEngine,
  io: RunCommandIo,
): Promise<GenerateResult> {
  const modelDir = await modelDirOf(options.model ?? "", io.models, io.userDir);
  if (options.prompt === undefined) {
    throw new TypeError("Cannot run: give the prompt with --prompt TEXT");
  }
  const config = await loadModelConfig(modelDir);
  const tokenizer = await ModelTokenizer.load(modelDir);
  const executionProvider = options.executionProvider;
  const dtype = options.dtype ?? defaultDType(executionProvider);
  const started = performance.now();
  const shard = await engine.loadShard({
    modelDir,
    startLayer: 0,
    endLayer: config.numLayers - 1,
    dtype,
    executionProvider,
  });
  const fallback = shard.fallbackReason === null
    ? ""
    : ` (asked for ${executionProvider}: ${shard.fallbackReason})`;
  io.logger.info(
    `Loaded ${modelDir}: ${config.numLayers} layers, ${shard.dtype}, in ${
      (performance.now() - started).toFixed(0)
    } ms; execution provider ${shard.activeProvider}${fallback}`,
  );
  const completion = generate({
    engine,
    tokenizer,
    input: { messages: [{ role: "user", content: options.prompt }] },
    maxTokens: options.maxGenerateTokens,
    sampling: { temperature: 0, topP: 1, topK: 0 },
  });
  while (true) {
    const next = await completion.next();
    if (next.done) return next.value;
    io.write(next.value);
  }
}

/**
 * The model's directory: a path (or an existing directory) as is; a registry or hub repo id
 * through `models`, which fetches every layer when they are missing.
 */
async function modelDirOf(
  model: string,
  models: ModelResolver | undefined,
  userDir = Deno.cwd(),
): Promise<string> {
  const isPath = model.startsWith("/") || model.startsWith(".") || model.startsWith("~");
  const here = resolve(userDir, model);
  if (models === undefined || isPath || await isDirectory(here)) {
    return await localModelDir(isPath ? model : here, models !== undefined);
  }
  const resolved = await models.resolve(model);
  const config = await loadModelConfig(resolved.dir);
  return (await models.resolveShard(model, 0, config.numLayers - 1)).dir;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A model directory named by path; the message says what else `run` takes. */
async function localModelDir(model: string, byName: boolean): Promise<string> {
  const takes = byName
    ? "run takes a model directory, a registry id (llama-3.2-1b) or a hub repo (org/name)"
    : "run takes a model directory here";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(model);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      `Cannot load model ${model}: no such directory (${resolve(model)}); ${takes}`,
    );
  }
  if (!info.isDirectory) {
    throw new TypeError(`Cannot load model ${model}: not a directory; ${takes}`);
  }
  return model;
}
