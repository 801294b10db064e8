// The chat page served by a real two-node cluster (two node processes on loopback, a small
// random-weight model split over both), in a real headless Chromium.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { browserTest, launch, PageWatch, screenshot } from "./_browser.ts";
import { assertInViewport, assertNoPanning } from "./_page.ts";
import { type NodeProcess, stopAll } from "../_helpers/node_process.ts";
import { writeTestModel } from "../cluster/_model.ts";
import { eventually, heldRequests, startServingCluster } from "../cluster/_serving.ts";
import { readChatStream } from "../../web/src/lib/chat_stream.ts";

/** The text of a chat completion stream, as the node sent it. */
async function streamedText(body: Uint8Array): Promise<string> {
  let text = "";
  const events = readChatStream(new Response(body as Uint8Array<ArrayBuffer>).body!);
  for (let next = await events.next(); !next.done; next = await events.next()) {
    if (next.value.type === "delta") text += next.value.text;
  }
  return text;
}

/** Sets the conversation's temperature and max tokens in the settings dialog. */
async function settings(page: Page, temperature: string, maxTokens: string): Promise<void> {
  await page.getByRole("button", { name: "Conversation settings" }).click();
  const dialog = page.locator("[data-dialog=settings]");
  await dialog.locator("input[name=temperature]").fill(temperature);
  await dialog.locator("input[name=max_tokens]").fill(maxTokens);
  await dialog.getByRole("button", { name: "Save" }).click();
}

Deno.test(
  browserTest(
    "The page on a two-node cluster: both nodes, a streamed chat, Stop frees both nodes, reload keeps it",
    async (t) => {
      const dir = await Deno.makeTempDir({ prefix: "exo-web-cluster-" });
      let nodes: NodeProcess[] = [];
      let browser: Browser | undefined;
      try {
        const model = await writeTestModel(dir);
        ({ nodes } = await startServingCluster(dir, ["web-a", "web-b"], model.dir, {
          maxGenerateTokens: 2000,
        }));
        const [a, b] = nodes;
        browser = await launch();
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
        await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: a.url });
        const page = await context.newPage();
        const watch = new PageWatch(page);
        await page.goto(a.url);

        await t.step(
          "shows both nodes, which one serves the page, and their layers of the model",
          async () => {
            await page.locator("[data-node=web-a] [data-layers]").filter({ hasText: /layers? \d/ })
              .waitFor();
            await page.locator("[data-node=web-b] [data-layers]").filter({ hasText: /layers? \d/ })
              .waitFor();
            const layers = await page.locator("[data-layers]").allTextContents();
            assert.deepEqual(layers.sort(), ["layers 0–2 of 6", "layers 3–5 of 6"]);
            assert.match(await page.locator("[data-node=web-a]").textContent() ?? "", /this page/);
            assert.equal(await page.getByTestId("node-count").textContent(), "2");
          },
        );

        await t.step(
          "picks the model, sends with Enter, and shows exactly the streamed text",
          async () => {
            await page.getByTestId("model-picker").click();
            const row = page.locator(`[data-model="${model.dir}"]`);
            assert.equal(await row.getAttribute("data-state"), "local");
            await row.locator(".model-main").click();
            assert.equal(await page.getByTestId("model-picker").textContent(), "model");
            await settings(page, "0", "24");
            const response = page.waitForResponse((r) => r.url().endsWith("/v1/chat/completions"));
            const box = page.getByRole("textbox", { name: "Message" });
            await box.fill("Hello cluster");
            await box.press("Enter");
            const reply = page.locator(".message.assistant").last();
            await reply.locator("[data-stat=finish]").waitFor({ timeout: 60_000 });
            const streamed = await streamedText(new Uint8Array(await (await response).body()));
            assert.ok(streamed.length > 0, "the model wrote something");
            await reply.getByRole("button", { name: "Copy reply" }).click();
            assert.equal(await page.evaluate("navigator.clipboard.readText()"), streamed);
            assert.ok((await reply.locator(".markdown").innerText()).trim().length > 0);
            assert.equal(await reply.locator("[data-stat=tokens]").textContent(), "24");
            assert.equal(
              await reply.locator("[data-stat=finish]").getAttribute("data-reason"),
              "length",
            );
            // Each node measured its providers as it loaded its shard (auto, the default).
            for (const id of ["web-a", "web-b"]) {
              const card = page.locator(`[data-node=${id}]`);
              await card.locator("[data-candidates]").waitFor();
              assert.match(
                await card.locator("[data-engine]").textContent() ?? "",
                /^(CPU|WebGPU) · float32 · chosen by auto/,
                `${id}: auto is the default, and no fallback`,
              );
              assert.equal(await card.locator(".node-engine.warn").count(), 0);
              assert.match(
                await card.locator("tr.chosen").textContent() ?? "",
                /^(CPU|WebGPU) float32✓[\d.]+ tok\/s[\d.]+ tok\/s$/,
              );
              assert.match(
                await card.locator("[data-auto-notes]").textContent() ?? "",
                /^measured \d\d:\d\d on layers? \d/,
              );
            }
            await screenshot(page, "20-cluster-chat");
          },
        );

        await t.step("Stop mid-reply ends the request on both nodes", async () => {
          await settings(page, "0", "2000");
          const box = page.getByRole("textbox", { name: "Message" });
          await box.fill("Now write for a long time");
          await box.press("Enter");
          const reply = page.locator(".message.assistant").last();
          await reply.locator(".markdown").waitFor({ timeout: 60_000 });
          await eventually(
            async () => (await heldRequests(a)).length > 0 && (await heldRequests(b)).length > 0,
            "both nodes hold the request",
          );
          await screenshot(page, "21-cluster-streaming");
          await page.getByRole("button", { name: "Stop" }).click();
          await reply.locator("[data-stat=finish]").waitFor();
          assert.equal(await reply.locator("[data-stat=finish]").textContent(), "stopped by you");
          await eventually(
            async () =>
              (await heldRequests(a)).length === 0 && (await heldRequests(b)).length === 0,
            "neither node holds the request",
          );
          const tokens = Number(await reply.locator("[data-stat=tokens]").textContent());
          assert.ok(!(tokens >= 2000), `stopped before the end (${tokens} tokens)`);
        });

        await t.step("a reload finds the conversation", async () => {
          await page.reload();
          await page.locator(".message.user").filter({ hasText: "Now write for a long time" })
            .waitFor();
          assert.equal(await page.locator(".message").count(), 4);
          assert.deepEqual(await page.locator(".history-title").allTextContents(), [
            "Hello cluster",
          ]);
          await page.locator("[data-node=web-b]").waitFor();
          await screenshot(page, "22-cluster-reloaded");
        });

        await t.step(
          "on a phone in dark: the picker stays on screen with the registry's sizes",
          async () => {
            const phone = await browser!.newContext({
              viewport: { width: 390, height: 844 },
              colorScheme: "dark",
            });
            try {
              const small = await phone.newPage();
              const smallWatch = new PageWatch(small);
              await small.goto(a.url);
              await small.getByTestId("model-picker").filter({ hasText: "model" }).waitFor();
              await small.getByTestId("model-picker").click();
              await assertInViewport(small, small.locator(".picker-menu"), "the model menu");
              assert.match(
                await small.locator("[data-model='llama-3.2-1b'] [data-size]").textContent() ??
                  "",
                /^1\.24B · 2\.3 GB download/,
                "the node's /v1/models carries the registry's sizes",
              );
              await assertNoPanning(small, "the picker open on a phone");
              await screenshot(small, "23-cluster-phone-picker");
              assert.deepEqual(smallWatch.errors, []);
            } finally {
              await phone.close();
            }
          },
        );

        assert.deepEqual(watch.errors, [], "no console or uncaught errors");
        assert.deepEqual(watch.offLoopback(), [], "no request leaves loopback");
        await context.close();
      } finally {
        await browser?.close();
        await stopAll(nodes);
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  ),
);
