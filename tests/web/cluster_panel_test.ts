// The cluster panel of a cluster whose nodes chose their engines differently (issue 24):
// auto on WebGPU beside its CPU, auto on the CPU with WebGPU out, a provider named on the
// command line. At a laptop's and a phone's size, light and dark: measured and
// screenshotted (test-artifacts/web/c1-auto-*.png).
import assert from "node:assert/strict";
import type { Browser, Locator } from "playwright-core";
import { browserTest, launch, screenshot } from "./_browser.ts";
import { servePage } from "./_page_app.ts";
import { assertInViewport, assertNoPanning, clean, lookName, LOOKS, open } from "./_page.ts";
import { autoCluster } from "./_fake_cluster.ts";
import { eventually } from "../cluster/_serving.ts";

Deno.test(
  browserTest(
    "The cluster panel shows what auto measured and chose on each node, at 1280×800 and 390×844, light and dark",
    async (t) => {
      const server = servePage({}, autoCluster());
      let browser: Browser | undefined;
      try {
        browser = await launch();
        for (const look of LOOKS) {
          await t.step(
            `at ${look.width}×${look.height}, ${look.dark ? "dark" : "light"}`,
            async () => {
              const { page, watch, context } = await open(browser!, server, look);
              try {
                if (look.width < 760) {
                  await page.getByRole("button", { name: "3 nodes" }).click();
                  await eventually(async () => {
                    const box = (await page.locator(".cluster").boundingBox())!;
                    return box.x + box.width <= look.width;
                  }, "the cluster drawer slides in");
                }
                const studio = page.locator("[data-node=studio]");
                const mini = page.locator("[data-node=mini]");
                const macbook = page.locator("[data-node=macbook]");
                await studio.locator("[data-candidates]").waitFor();

                assert.equal(
                  await studio.locator("[data-engine]").textContent(),
                  "WebGPU · q4 · chosen by auto · all 122 graph nodes there",
                );
                assert.deepEqual(await rows(studio), [
                  "CPU q4 | 27.5 tok/s | 118 tok/s",
                  "WebGPU q4✓ | 41.2 tok/s | 311 tok/s",
                ]);
                assert.equal(
                  await studio.locator("tr.chosen").getAttribute("data-candidate"),
                  "WebGPU q4",
                );
                assert.deepEqual(await studio.locator("[data-auto-notes] p").allTextContents(), [
                  "measured 09:41 on layers 0–3 (projected to this node's layers)",
                ]);

                assert.equal(
                  await mini.locator("[data-engine]").textContent(),
                  "CPU · q4 · chosen by auto",
                );
                assert.equal(await mini.locator(".node-engine.warn").count(), 0, "no warning");
                assert.deepEqual(await rows(mini), [
                  "CPU q4✓ | 212 tok/s | 1544 tok/s",
                  "WebGPU q4 | out: its outputs differ from the CPU's by 0.32 (tolerance 0.02)",
                ]);
                const lastYear = new Date().getFullYear() - 1;
                assert.deepEqual(await mini.locator("[data-auto-notes] p").allTextContents(), [
                  `measured 3 Mar ${lastYear} 18:05 on layer 15`,
                  "kept from an earlier start; --reprobe measures again",
                ]);

                assert.equal(
                  await macbook.locator(".node-engine.warn").textContent(),
                  "CoreML · float16 · 4 of 122 graph nodes there, 118 on CPU",
                  "a named provider keeps its line, and its placement warning",
                );
                assert.equal(
                  await macbook.locator("[data-candidates], [data-auto-notes]").count(),
                  0,
                );

                // The out reason wraps inside the card; nothing is cut or wider than the panel.
                const panel = page.locator(".cluster-panel");
                for (const card of [studio, mini]) {
                  const table = await card.locator("[data-candidates]").boundingBox();
                  const box = await card.boundingBox();
                  assert.ok(
                    table !== null && box !== null && table.x + table.width <= box.x + box.width,
                    `${lookName(look)}: the candidates stay inside their card`,
                  );
                }
                await assertNoPanning(page, `the auto cluster at ${lookName(look)}`);
                if (look.width < 760) {
                  await assertInViewport(page, page.locator(".cluster"), "the drawer");
                }
                await studio.scrollIntoViewIfNeeded();
                await screenshot(page, `c1-auto-${lookName(look)}`);
                await mini.scrollIntoViewIfNeeded();
                await screenshot(page, `c2-auto-kept-${lookName(look)}`);
                assert.ok(await panel.isVisible());
                clean(watch);
              } finally {
                await context.close();
              }
            },
          );
        }
      } finally {
        await browser?.close();
        await server.close();
      }
    },
  ),
);

/** The candidate rows of a node card, cells joined by " | ". */
async function rows(card: Locator): Promise<string[]> {
  const lines: string[] = [];
  for (const row of await card.locator("[data-candidates] tbody tr").all()) {
    const cells = await row.locator("th, td").allTextContents();
    lines.push(cells.map((cell) => cell.trim()).join(" | "));
  }
  return lines;
}
