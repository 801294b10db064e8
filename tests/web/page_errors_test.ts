// The chat page after things go wrong, at a laptop's and a phone's size in light and dark
// (issue 27): a model too large for the cluster, a download the hub cannot serve, a chat
// whose model cannot be fetched, the node going away. Each state is measured (nothing
// wider than the viewport, menus and dialogs inside it, an error shown once) and
// screenshotted; the page widths go to test-artifacts/web/widths.json.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { browserTest, launch, saveArtifact, screenshot } from "./_browser.ts";
import { type PageServer, servePage } from "./_page_app.ts";
import {
  assertInViewport,
  assertNoPanning,
  clean,
  lastReply,
  type Look,
  lookName,
  LOOKS,
  open,
  scrolledToEnd,
  sendMessage,
  timesShown,
} from "./_page.ts";
import { ApiError } from "../../lib/api/api_error.ts";
import { eventually } from "../cluster/_serving.ts";

/** The kind of message a node gives when the hub cannot be reached, with a long path. */
const HUB_DOWN = "Cannot download qwen-3-0.6b: it is a registry model, but the Hugging Face " +
  "hub (huggingface.co) could not be reached: name resolution failed. Start the node with " +
  "--offline and a local copy, set --models-seed-dir or HF_ENDPOINT, or give a model " +
  "directory such as /Users/newcomer/.cache/huggingface/hub/models--Qwen--Qwen3-0.6B/" +
  "snapshots/c1899de289a04d12100db370d81485cdf75e47ca";
const REASON = "name resolution failed";

function hubDown(): ApiError {
  return new ApiError(503, HUB_DOWN, { param: "model", code: "hub_unreachable" });
}

/** Waits until the page has polled download progress holding a failure. */
function failureSeen(page: Page): Promise<unknown> {
  return page.waitForResponse(async (response) =>
    response.url().endsWith("/v1/download/progress") &&
    (await response.text()).includes(REASON)
  );
}

/** Page widths by state, then by look: what the closing note reports. */
const widthsSeen: Record<string, Record<string, number>> = {};

async function measured(page: Page, look: Look, state: string): Promise<void> {
  const widths = await assertNoPanning(page, `${state} at ${lookName(look)}`);
  (widthsSeen[state] ??= {})[lookName(look)] = widths.page;
}

/** The whole walk through the failures, at one size and color scheme. */
async function walk(browser: Browser, server: PageServer, look: Look): Promise<void> {
  const name = lookName(look);
  const phone = look.width < 760;
  const { page, watch, context } = await open(browser, server, look);
  try {
    await page.getByTestId("model-picker").filter({ hasText: "Llama 3.2 1B" }).waitFor();
    await page.getByTestId("cluster-memory").filter({ hasText: "23.5 GB" })
      .waitFor({ state: "attached" });

    // The picker: inside the viewport, every model with its size and whether it fits.
    await page.getByTestId("model-picker").click();
    const menu = page.locator(".picker-menu");
    await assertInViewport(page, menu, "the model menu");
    const big = page.locator("[data-model='llama-3.1-70b']");
    assert.equal(await big.getAttribute("data-fits"), "false");
    assert.equal(
      await big.locator("[data-size]").textContent(),
      "70.6B · 132 GB download · needs 62.5 GB memory, more than the cluster's 23.5 GB",
    );
    assert.equal(
      await page.locator("[data-model='llama-3.2-1b'] [data-size]").textContent(),
      "1.24B · 2.3 GB download · needs 1.1 GB memory",
    );
    await measured(page, look, "model menu open");
    await screenshot(page, `e1-picker-${name}`);

    // A 70B model on 23.5 GB says so before anything is downloaded.
    await big.locator(".model-main").click();
    const dialog = page.locator("[data-dialog=download]");
    await dialog.locator("[data-too-large]").waitFor();
    assert.match(
      await dialog.locator("[data-too-large]").innerText(),
      /about 62.5 GB of memory to run, and the 2 nodes have together 23\.5 GB/,
    );
    assert.match(await dialog.locator("[data-facts]").innerText(), /about 132 GB in all/);
    await assertInViewport(page, dialog, "the download dialog");
    await measured(page, look, "70B offered");
    await screenshot(page, `e2-too-large-${name}`);
    await dialog.getByRole("button", { name: "Choose another model" }).click();
    await menu.waitFor();
    assert.deepEqual(server.downloads.prefetched, [], "nothing was downloaded");

    // A download the hub cannot serve: why, then retry, another model, or cancel.
    server.downloads.failNext = hubDown();
    await page.locator("[data-model='qwen-3-0.6b'] .model-main").click();
    let seen = failureSeen(page);
    await dialog.getByRole("button", { name: "Download", exact: true }).click();
    await dialog.locator("[data-failure]").waitFor();
    await seen;
    assert.equal(await dialog.locator("h2").textContent(), "Cannot download Qwen 3 0.6B");
    assert.match(await dialog.locator("[data-failure]").innerText(), /could not be fetched/);
    for (const action of ["Retry", "Choose another model", "Cancel"]) {
      await dialog.getByRole("button", { name: action, exact: true }).waitFor();
    }
    await assertInViewport(page, dialog, "the failed download dialog");
    assert.equal(await timesShown(page, REASON), 1, "the reason is shown once, in the dialog");
    await measured(page, look, "download failed");
    await screenshot(page, `e3-download-failed-${name}`);

    // Cancelled, the failure is listed once among the downloads, and can be dismissed.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    if (phone) await page.locator(".cluster-pill").click();
    const listed = page.locator("[data-download-failed='qwen-3-0.6b']");
    await listed.waitFor();
    assert.match(await listed.innerText(), /Failed on mac1, mac2\s+Cannot download qwen-3-0\.6b/);
    assert.equal(await timesShown(page, REASON), 1, "one entry for both nodes' failure");
    if (phone) {
      const drawer = page.locator(".cluster");
      await eventually(async () => {
        const box = (await drawer.boundingBox())!;
        return box.x + box.width <= look.width;
      }, "the cluster drawer slides in");
      await assertInViewport(page, drawer, "the cluster drawer");
    }
    await measured(page, look, "failed download listed");
    await screenshot(page, `e4-failed-listed-${name}`);
    await listed.getByRole("button", { name: /Dismiss/ }).click();
    await listed.waitFor({ state: "detached" });
    if (phone) await page.getByRole("button", { name: "Close cluster panel" }).click();

    // "Download and send" that fails keeps the message; Retry sends it once it starts.
    server.downloads.failNext = hubDown();
    seen = failureSeen(page);
    await sendMessage(page, "Are you there?");
    await dialog.getByRole("button", { name: "Download and send" }).click();
    await dialog.locator("[data-failure]").waitFor();
    await seen;
    const box = page.getByRole("textbox", { name: "Message" });
    assert.equal(await box.inputValue(), "Are you there?", "the message is not lost");
    await dialog.getByRole("button", { name: "Retry" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.locator(".live-status").filter({ hasText: "Waiting for Qwen 3 0.6B" }).waitFor();
    assert.equal(await box.inputValue(), "");
    await measured(page, look, "waiting for a download");
    server.downloads.set("mac1", "qwen-3-0.6b", 2 ** 30, 2 ** 30, true);
    server.downloads.set("mac2", "qwen-3-0.6b", 2 ** 29, 2 ** 29, true);
    server.service.modelList.find((m) => m.id === "qwen-3-0.6b")!.availableLocally = true;
    await lastReply(page);

    // A chat whose model the cluster cannot fetch: readable, with retry and another model.
    server.service.script = {
      deltas: [],
      finishReason: "stop",
      promptTokens: 1,
      failBeforeStart: hubDown(),
    };
    await sendMessage(page, "And now?");
    let reply = await lastReply(page);
    assert.equal(
      await reply.locator(".reply-error strong").textContent(),
      "The model could not be fetched",
    );
    assert.equal(await timesShown(page, REASON), 1);
    await reply.getByRole("button", { name: "Choose another model" }).waitFor();
    await scrolledToEnd(page);
    await measured(page, look, "chat: hub unreachable");
    await screenshot(page, `e5-chat-hub-unreachable-${name}`);
    server.service.script = {
      deltas: ["Fetched after all"],
      finishReason: "stop",
      promptTokens: 1,
    };
    await reply.getByRole("button", { name: "Retry" }).click();
    await page.locator(".message.assistant .markdown").filter({ hasText: "Fetched after all" })
      .waitFor();

    // The settings show the length a reply gets when none is set.
    await page.getByRole("button", { name: "Conversation settings" }).click();
    const settings = page.locator("[data-dialog=settings]");
    assert.equal(
      await settings.locator("input[name=max_tokens]").getAttribute("placeholder"),
      "1024 (default)",
    );
    await assertInViewport(page, settings, "the settings dialog");
    await screenshot(page, `e7-settings-${name}`);
    await settings.getByRole("button", { name: "Cancel" }).click();

    // The node goes away: the reason once, in the banner.
    await server.close();
    await page.locator("[data-banner=offline]").waitFor();
    await sendMessage(page, "Still there?");
    reply = await lastReply(page);
    assert.equal(await reply.locator(".reply-error strong").textContent(), "Cannot reach the node");
    assert.equal(await timesShown(page, "No answer from the node"), 1);
    assert.equal(await page.locator(".cluster-pill").textContent(), "offline");
    await page.locator(".node-list.stale").waitFor({ state: "attached" });
    await scrolledToEnd(page);
    await measured(page, look, "node offline");
    await screenshot(page, `e6-node-offline-${name}`);

    assert.deepEqual(
      watch.errors.filter((e) => !/status of 503|ERR_CONNECTION_REFUSED/.test(e)),
      [],
      "no console errors but the failed loads",
    );
    assert.deepEqual(watch.offLoopback(), []);
  } finally {
    await context.close();
  }
}

Deno.test(
  browserTest(
    "The page after errors, at 1280×800 and 390×844, light and dark: no panning, no dead end",
    async (t) => {
      let browser: Browser | undefined;
      try {
        browser = await launch();
        for (const look of LOOKS) {
          await t.step(
            `at ${look.width}×${look.height}, ${look.dark ? "dark" : "light"}`,
            async () => {
              const server = servePage();
              try {
                await walk(browser!, server, look);
              } finally {
                await server.close().catch(() => {});
              }
            },
          );
        }
        await saveArtifact("widths.json", JSON.stringify(widthsSeen, null, 2) + "\n");

        await t.step("a 404 answer to a download is not listed as a failed download", async () => {
          const server = servePage();
          const { page, watch, context } = await open(browser!, server);
          try {
            server.downloads.failNext = new ApiError(
              404,
              'Model "qwen-3-0.6b" not found on the hub',
              { param: "model", code: "model_not_found" },
            );
            await page.getByTestId("model-picker").click();
            await page.locator("[data-model='qwen-3-0.6b'] .model-main").click();
            const dialog = page.locator("[data-dialog=download]");
            const polled = page.waitForResponse(async (response) =>
              response.url().endsWith("/v1/download/progress") &&
              (await response.text()).includes("not found on the hub")
            );
            await dialog.getByRole("button", { name: "Download", exact: true }).click();
            await dialog.locator("[data-failure]").filter({ hasText: "Model not found" }).waitFor();
            await polled;
            await dialog.getByRole("button", { name: "Cancel" }).click();
            await page.getByTestId("model-picker").click();
            assert.equal(
              await page.locator("[data-model='qwen-3-0.6b']").getAttribute("data-state"),
              "absent",
            );
            assert.equal(await page.locator("[data-download-failed]").count(), 0);
            assert.equal(await timesShown(page, "not found on the hub"), 0);
            assert.deepEqual(watch.errors.filter((e) => !/status of 404/.test(e)), []);
            watch.errors.length = 0;
            clean(watch);
          } finally {
            await context.close();
            await server.close();
          }
        });
      } finally {
        await browser?.close();
      }
    },
  ),
);
