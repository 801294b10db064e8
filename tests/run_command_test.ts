import assert from "node:assert/strict";
import { ModelTokenizer } from "../lib/inference/tokenizer/mod.ts";
import { writeRandomCheckpoint } from "./fixtures/make_checkpoint.ts";
import { loadReferenceWeights, referenceForward } from "./reference/llama_reference.ts";
import { runMain } from "./_helpers/run_main.ts";

function argmax64(logits: Float64Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

Deno.test("exo-node run streams the reference's greedy completion to stdout and exits 0", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_command_test_" });
  try {
    const { dir, config } = await writeRandomCheckpoint(`${root}/model`, {
      architecture: "llama",
      seed: 5,
    });
    const tokenizer = await ModelTokenizer.load(dir);
    const weights = await loadReferenceWeights(dir);
    const sequence = tokenizer.encodeChat([{ role: "user", content: "hi" }]);
    const greedy: number[] = [];
    while (greedy.length < 5) {
      const logits = referenceForward(weights, config, sequence);
      const token = argmax64(logits[logits.length - 1]);
      greedy.push(token);
      if (tokenizer.eosTokenIds.has(token)) break;
      sequence.push(token);
    }

    const { code, stdout, stderr } = await runMain(
      ["run", dir, "--prompt", "hi", "--max-generate-tokens", "5", "--dtype", "float32"],
      `${root}/home`,
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout, tokenizer.decode(greedy, { skipSpecialTokens: true }));
    assert.match(stderr, /execution provider cpu/);
    assert.match(stderr, /Generated \d+ tokens .* tokens\/s/);
    // The converted graph lands in the default cache dir, under the state dir.
    assert.ok((await Array.fromAsync(Deno.readDir(`${root}/home/shards`))).length > 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exo-node run exits 1 with one clear line for a missing model directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_command_test_" });
  try {
    const missing = `${root}/no-such-model`;
    const { code, stdout, stderr } = await runMain(
      ["run", missing, "--prompt", "hi"],
      `${root}/home`,
    );
    assert.equal(code, 1);
    assert.equal(stdout, "");
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0],
      new RegExp(
        `ERROR Cannot load model ${missing}: no such directory \\(${missing}\\); run takes a model directory, a registry id`,
      ),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exo-node run exits 1 with one line for a corrupt safetensors file", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_command_test_" });
  try {
    const { dir } = await writeRandomCheckpoint(`${root}/model`, { architecture: "llama" });
    const file = `${dir}/model.safetensors`;
    const bytes = await Deno.readFile(file);
    await Deno.writeFile(file, bytes.subarray(0, 4096));
    const { code, stdout, stderr } = await runMain(
      ["run", dir, "--prompt", "hi", "--dtype", "float32"],
      `${root}/home`,
    );
    assert.equal(code, 1);
    assert.equal(stdout, "");
    const errors = stderr.trimEnd().split("\n").filter((line) => line.includes(" ERROR "));
    assert.equal(errors.length, 1, stderr);
    assert.match(errors[0], /Cannot read safetensors file .*model\.safetensors: /);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exo-node run takes a bare model directory name from the folder the user ran it in (INIT_CWD)", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_command_test_" });
  try {
    await writeRandomCheckpoint(`${root}/work/my-model`, { architecture: "llama", seed: 5 });
    // As under `deno task`: the process runs elsewhere, INIT_CWD says where the user was.
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL("../main.ts", import.meta.url).pathname,
        "run",
        "my-model",
        "--prompt",
        "hi",
        "--max-generate-tokens",
        "2",
        "--dtype",
        "float32",
      ],
      cwd: root,
      stdin: "null",
      env: {
        NO_COLOR: "1",
        EXO_NODE_HOME: `${root}/home`,
        INIT_CWD: `${root}/work`,
        HF_HUB_OFFLINE: "1",
        HF_ENDPOINT: "http://127.0.0.1:9",
      },
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(stderr, new RegExp(`Loaded ${root}/work/my-model: `));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
