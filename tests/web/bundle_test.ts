import assert from "node:assert/strict";
import { bundleWeb } from "../../scripts/build_web.ts";

Deno.test("web/dist/app.js is the bundle of web/src as it is now (run `deno task build:web`)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exo-web-test-" });
  try {
    await bundleWeb(`${dir}/app.js`);
    const fresh = await Deno.readTextFile(`${dir}/app.js`);
    const committed = await Deno.readTextFile(new URL("../../web/dist/app.js", import.meta.url));
    assert.ok(fresh === committed, "web/dist/app.js is out of date: run `deno task build:web`");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
