import assert from "node:assert/strict";
import { writeRandomCheckpoint } from "./fixtures/make_checkpoint.ts";
import { runMain } from "./_helpers/run_main.ts";

Deno.test("exo-node run measures the providers once, keeps the choice, and --reprobe measures again", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_auto_test_" });
  try {
    const { dir } = await writeRandomCheckpoint(`${root}/model`, {
      architecture: "llama",
      seed: 5,
    });
    const run = (...extra: string[]) =>
      runMain(
        [
          "run",
          dir,
          "--prompt",
          "hi",
          "--max-generate-tokens",
          "3",
          "--dtype",
          "float32",
          ...extra,
        ],
        `${root}/home`,
      );
    const measured = await run();
    assert.equal(measured.code, 0, measured.stderr);
    assert.match(
      measured.stderr,
      /auto: cpu float32 [\d.]+ tok\/s \(prompt [\d.]+ tok\/s\), webgpu float32 .*→ (cpu|webgpu) \(layers 0\.\.3 timed\)/,
    );
    const chosen = /→ (\w+) \(layers/.exec(measured.stderr)![1];
    assert.match(measured.stderr, new RegExp(`execution provider ${chosen}\\b`));
    const kept = [...Deno.readDirSync(`${root}/home/engine-choices`)];
    assert.equal(kept.length, 1);

    const again = await run();
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      new RegExp(`→ ${chosen} \\(measured .* and kept; --reprobe measures again\\)`),
    );
    assert.doesNotMatch(again.stderr, /timed\)/, "a kept choice is not measured");
    assert.equal(again.stdout, measured.stdout);

    const reprobed = await run("--reprobe");
    assert.equal(reprobed.code, 0, reprobed.stderr);
    assert.match(reprobed.stderr, /→ \w+ \(layers 0\.\.3 timed\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
