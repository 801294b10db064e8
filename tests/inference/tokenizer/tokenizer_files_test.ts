import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelTokenizer, readTokenizerFiles } from "../../../lib/inference/tokenizer/mod.ts";
import { TINY, tinyTokenizerFiles } from "./tiny_tokenizer.ts";

async function withModelDir(
  files: Record<string, string>,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tokenizer_files_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const tiny = tinyTokenizerFiles();
const TOKENIZER_JSON = JSON.stringify(tiny.tokenizer);
const CONFIG_JSON = JSON.stringify(tiny.tokenizerConfig);

Deno.test("ModelTokenizer.load names a missing tokenizer.json", async () => {
  await withModelDir({ "tokenizer_config.json": CONFIG_JSON }, async (dir) => {
    await assert.rejects(
      () => ModelTokenizer.load(dir),
      (error: Error) =>
        error instanceof Deno.errors.NotFound &&
        error.message === `Cannot load tokenizer: ${join(dir, "tokenizer.json")} does not exist`,
    );
  });
});

Deno.test("ModelTokenizer.load names a missing tokenizer_config.json", async () => {
  await withModelDir({ "tokenizer.json": TOKENIZER_JSON }, async (dir) => {
    await assert.rejects(
      () => ModelTokenizer.load(dir),
      Deno.errors.NotFound,
      "tokenizer_config.json",
    );
  });
});

Deno.test("ModelTokenizer.load names a file that is not a JSON object", async () => {
  await withModelDir(
    { "tokenizer.json": "{ not json", "tokenizer_config.json": CONFIG_JSON },
    async (dir) => {
      await assert.rejects(
        () => ModelTokenizer.load(dir),
        SyntaxError,
        `Cannot load tokenizer: ${join(dir, "tokenizer.json")} is not valid JSON: `,
      );
    },
  );
  await withModelDir(
    { "tokenizer.json": TOKENIZER_JSON, "tokenizer_config.json": "[1]" },
    async (dir) => {
      await assert.rejects(
        () => ModelTokenizer.load(dir),
        SyntaxError,
        "does not hold a JSON object",
      );
    },
  );
});

Deno.test("ModelTokenizer.load names tokenizer.json when the library cannot build it", async () => {
  const broken = JSON.stringify({ ...tiny.tokenizer, model: { type: "NoSuchModel" } });
  await withModelDir(
    { "tokenizer.json": broken, "tokenizer_config.json": CONFIG_JSON },
    async (dir) => {
      await assert.rejects(
        () => ModelTokenizer.load(dir),
        SyntaxError,
        `Cannot load tokenizer from ${join(dir, "tokenizer.json")}: `,
      );
    },
  );
});

Deno.test("ModelTokenizer.load takes optional files when present", async () => {
  await withModelDir({
    "tokenizer.json": TOKENIZER_JSON,
    "tokenizer_config.json": CONFIG_JSON,
    "generation_config.json": JSON.stringify({ eos_token_id: TINY.eot }),
    "chat_template.jinja": "{% for m in messages %}[{{ m.content }}]{% endfor %}",
  }, async (dir) => {
    const files = await readTokenizerFiles(dir);
    assert.equal(files.source, dir);
    const tokenizer = new ModelTokenizer(files);
    assert.deepEqual([...tokenizer.eosTokenIds].sort(), [TINY.eos, TINY.eot]);
    assert.equal(tokenizer.applyChatTemplate([{ role: "user", content: "x" }]), "[x]");
  });
});

Deno.test("ModelTokenizer.load works without the optional files", async () => {
  await withModelDir(
    { "tokenizer.json": TOKENIZER_JSON, "tokenizer_config.json": CONFIG_JSON },
    async (dir) => {
      const tokenizer = await ModelTokenizer.load(dir);
      assert.deepEqual([...tokenizer.eosTokenIds], [TINY.eos]);
    },
  );
});
