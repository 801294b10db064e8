import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommand } from "../../lib/cli/run_command.ts";
import { Logger } from "../../lib/log/mod.ts";
import { options } from "./_parse_helpers.ts";
import { hubResolver, REPO, startHub } from "../model/_hub_fixture.ts";

Deno.test("exo-node run downloads every layer of a hub model it lacks, then answers", async () => {
  const root = await Deno.makeTempDir();
  const { hub, model } = await startHub(root, { numLayers: 4, shards: 2 });
  try {
    const args = ["run", REPO, "--prompt", "hi", "--max-generate-tokens", "3"];
    const parsed = options([...args, "--dtype", "float32", "--state-dir", join(root, "home")]);
    let written = "";
    const lines: string[] = [];
    const status = await runCommand(parsed, {
      logger: new Logger("info", (line) => lines.push(line)),
      write: (text) => written += text,
      models: hubResolver(hub, join(root, "cache")),
    });
    assert.equal(status, 0, lines.join("\n"));
    assert.ok(written.length > 0);
    assert.deepEqual(
      hub.downloads().filter((f) => f.endsWith(".safetensors")).sort(),
      [...model.files].sort(),
    );
    assert.ok(lines.some((line) => line.includes("snapshots")), "loaded from the hub cache");
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});
