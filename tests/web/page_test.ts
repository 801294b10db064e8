// The chat page in a real headless Chromium against the node's real HTTP app, whose node
// parts are scripted fakes (tests/web/_page_app.ts): what the page shows for each kind of
// reply, error, download and setting. page_errors_test.ts checks the page after failures at
// phone and laptop sizes; cluster_page_test.ts runs it on real node processes.
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { browserTest, launch, screenshot } from "./_browser.ts";
import { servePage } from "./_page_app.ts";
import { clean, lastReply, open, sendMessage } from "./_page.ts";
import { eventually } from "../cluster/_serving.ts";
import {
  ClusterUnavailableError,
  ModelNotFoundError,
  RequestFailedError,
} from "../../lib/orchestration/errors.ts";

Deno.test(
  browserTest(
    "The chat page in Chromium: replies, errors, stop, history, settings, models, API key",
    async (t) => {
      const server = servePage();
      const keyed = servePage({ apiKey: "sekret-key" });
      let browser: Browser | undefined;
      try {
        browser = await launch();

        await t.step(
          "shows both nodes with their layers and preselects the default model",
          async () => {
            const { page, watch, context } = await open(browser!, server);
            await page.locator("[data-node=mac2] [data-layers]").filter({
              hasText: "layers 0–10 of 16",
            }).waitFor();
            assert.equal(
              await page.locator("[data-node=mac1] [data-layers]").textContent(),
              "layers 11–15 of 16",
            );
            assert.match(
              await page.locator("[data-node=mac1]").textContent() ?? "",
              /Apple M2.*8\.0 GB.*3\.55 TFLOPS/,
            );
            assert.match(await page.locator("[data-node=mac1]").textContent() ?? "", /this page/);
            assert.equal(await page.getByTestId("node-count").textContent(), "2");
            assert.equal(
              await page.getByTestId("cluster-memory").textContent(),
              "23.5 GB",
              "24,105 MB, as the node's log writes it",
            );
            assert.equal(
              await page.locator("[data-node=mac2] [data-engine]").textContent(),
              "WebGPU · q4 · all 122 graph nodes there",
            );
            assert.match(
              await page.locator("[data-node=mac1] .node-engine.warn").textContent() ?? "",
              /4 of 122 graph nodes there, 118 on CPU/,
            );
            assert.equal(await page.getByTestId("model-picker").textContent(), "Llama 3.2 1B");
            await screenshot(page, "01-empty-wide");
            clean(watch);
            await context.close();
          },
        );

        await t.step(
          "renders Markdown and highlighted code with a copy button; HTML in a reply stays text",
          async () => {
            const code = 'const answer: number = 42;\nconsole.log("<b>not bold</b>");';
            const html =
              `<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>`;
            server.service.script = {
              deltas: [
                "# Pipeline",
                " parallelism\n\nEach **node** holds ",
                "layers.\n\n",
                "```ts\n",
                code,
                "\n```\n\n",
                html,
              ],
              finishReason: "stop",
              promptTokens: 12,
            };
            const { page, watch, context } = await open(browser!, server);
            const request = page.waitForRequest((r) => r.url().endsWith("/v1/chat/completions"));
            await sendMessage(page, "Explain it with code");
            assert.equal(
              (await request).postDataJSON().max_tokens,
              1024,
              "a chat from the page asks for 1024 tokens unless its settings say otherwise",
            );
            const reply = await lastReply(page);
            assert.equal(await reply.locator(".markdown h1").textContent(), "Pipeline parallelism");
            assert.equal(await reply.locator(".markdown strong").first().textContent(), "node");
            assert.ok(
              await reply.locator(".code-block .hljs-keyword").count() > 0,
              "code is highlighted",
            );
            assert.equal(await reply.locator(".code-lang").textContent(), "ts");
            const text = await reply.locator(".markdown").innerText();
            assert.ok(text.includes('<img src=x onerror="window.__pwned=1">'), text);
            assert.ok(text.includes("<script>window.__pwned=2</script>"), text);
            assert.equal(await reply.locator(".markdown img, .markdown script").count(), 0);
            assert.equal(await page.evaluate("typeof window.__pwned"), "undefined");

            await reply.getByRole("button", { name: "Copy", exact: true }).click();
            await reply.getByRole("button", { name: "Copied" }).waitFor();
            assert.equal(await page.evaluate("navigator.clipboard.readText()"), code);

            assert.equal(await reply.locator("[data-stat=tokens]").textContent(), "7");
            assert.equal(
              await reply.locator("[data-stat=finish]").getAttribute("data-reason"),
              "stop",
            );
            assert.match(
              await reply.locator("[data-stat=ttft]").textContent() ?? "",
              /\d+ ms|\d(\.\d)? s/,
            );
            await screenshot(page, "02-markdown-reply");
            clean(watch);
            await context.close();
          },
        );

        await t.step("API errors show as readable messages in the conversation", async () => {
          const { page, watch, context } = await open(browser!, server);
          const cases: [Error, string, RegExp][] = [
            [
              new ModelNotFoundError("llama-3.2-1b", [], "not downloaded on this node"),
              "Model not found",
              /llama-3\.2-1b/,
            ],
            [
              new ClusterUnavailableError("Waited 30 s for 2 peers (--wait-for-peers)"),
              "The cluster cannot serve this now",
              /Waited 30 s for 2 peers/,
            ],
          ];
          for (const [error, title, message] of cases) {
            server.service.script = {
              deltas: [],
              finishReason: "stop",
              promptTokens: 1,
              failBeforeStart: error,
            };
            await sendMessage(page, `Try: ${title}`);
            const reply = await lastReply(page);
            assert.equal(await reply.locator(".reply-error strong").textContent(), title);
            assert.match(await reply.locator(".reply-error p").textContent() ?? "", message);
          }
          server.service.script = {
            deltas: ["The first ", "half", "never sent"],
            finishReason: "stop",
            promptTokens: 1,
            failMidStream: {
              afterDeltas: 2,
              error: new RequestFailedError("Node mac2 left the cluster during the request"),
            },
          };
          await sendMessage(page, "A node dies now");
          const reply = await lastReply(page);
          assert.equal(await reply.locator(".markdown").innerText(), "The first half");
          assert.equal(
            await reply.locator(".reply-error strong").textContent(),
            "The request failed on the cluster",
          );
          assert.match(
            await reply.locator(".reply-error p").textContent() ?? "",
            /mac2 left the cluster/,
          );
          assert.equal(
            await reply.locator("[data-stat=finish]").getAttribute("data-reason"),
            "error",
          );
          await screenshot(page, "03-errors");
          // 4xx/5xx answers show in the console as failed loads; nothing else may.
          assert.deepEqual(watch.errors.filter((e) => !/status of (404|503)/.test(e)), []);
          assert.deepEqual(watch.offLoopback(), []);
          await context.close();
        });

        await t.step(
          "Stop ends the reply mid-stream and cancels the request on the node",
          async () => {
            server.service.script = {
              deltas: ["Once", " upon", " a time"],
              finishReason: "stop",
              promptTokens: 3,
              hangAfter: 2,
            };
            const { page, watch, context } = await open(browser!, server);
            const outcome = server.service.nextOutcome();
            await sendMessage(page, "Tell me a very long story");
            const reply = page.locator(".message.assistant").last();
            await reply.locator(".markdown").filter({ hasText: "Once upon" }).waitFor();
            await page.getByRole("button", { name: "Stop" }).click();
            assert.equal(await outcome, "cancelled");
            await reply.locator("[data-stat=finish]").waitFor();
            assert.equal(await reply.locator("[data-stat=finish]").textContent(), "stopped by you");
            assert.equal(await reply.locator(".markdown").innerText(), "Once upon");
            await page.getByRole("button", { name: "Send" }).waitFor();
            clean(watch);
            await context.close();
          },
        );

        await t.step(
          "history survives a reload, lists newest first, edits regenerate, deletes ask first",
          async () => {
            server.service.script = {
              deltas: ["First answer"],
              finishReason: "stop",
              promptTokens: 2,
            };
            const { page, watch, context } = await open(browser!, server);
            await sendMessage(page, "First question");
            await lastReply(page);
            await page.getByRole("button", { name: "New chat" }).click();
            server.service.script = {
              deltas: ["Second answer"],
              finishReason: "length",
              promptTokens: 2,
            };
            await sendMessage(page, "Second question");
            await lastReply(page);
            await page.reload();
            await page.locator(".message.assistant .markdown").filter({ hasText: "Second answer" })
              .waitFor();
            const titles = await page.locator(".history-title").allTextContents();
            assert.deepEqual(titles, ["Second question", "First question"]);
            assert.equal(
              await page.locator(".message.assistant [data-stat=finish]").getAttribute(
                "data-reason",
              ),
              "length",
              "the figures are kept too",
            );

            await page.locator(".history-open").filter({ hasText: "First question" }).click();
            await page.locator(".message.user").filter({ hasText: "First question" }).waitFor();
            server.service.script = {
              deltas: ["Edited answer"],
              finishReason: "stop",
              promptTokens: 2,
            };
            await page.locator(".message.user").hover();
            await page.getByRole("button", { name: "Edit message" }).click();
            await page.getByRole("textbox", { name: "Edit your message" }).fill(
              "First question, edited",
            );
            await page.getByRole("button", { name: "Save and regenerate" }).click();
            await page.locator(".message.assistant .markdown").filter({ hasText: "Edited answer" })
              .waitFor();
            assert.equal(await page.locator(".message").count(), 2, "the old reply is replaced");
            const job = server.service.lastJob;
            assert.ok("messages" in job.input);
            assert.deepEqual(job.input.messages, [{
              role: "user",
              content: "First question, edited",
            }]);
            await screenshot(page, "04-history");

            await page.locator(".history-item").filter({ hasText: "Second question" }).getByRole(
              "button",
              { name: /Delete conversation/ },
            ).click();
            await page.locator("[data-dialog=delete-chat]").getByRole("button", { name: "Delete" })
              .click();
            assert.deepEqual(await page.locator(".history-title").allTextContents(), [
              "First question, edited",
            ]);
            await page.getByRole("button", { name: "Clear all conversations" }).click();
            await page.locator("[data-dialog=clear]").getByRole("button", { name: "Clear all" })
              .click();
            await page.locator(".history-empty").waitFor();
            await page.reload();
            await page.locator(".history-empty").waitFor();
            clean(watch);
            await context.close();
          },
        );

        await t.step("settings are sent with the conversation's requests", async () => {
          server.service.script = { deltas: ["ok"], finishReason: "stop", promptTokens: 2 };
          const { page, watch, context } = await open(browser!, server);
          await page.getByRole("button", { name: "Conversation settings" }).click();
          const dialog = page.locator("[data-dialog=settings]");
          assert.equal(
            await dialog.locator("input[name=max_tokens]").getAttribute("placeholder"),
            "1024 (default)",
          );
          await dialog.getByText("empty uses 1024 tokens").waitFor();
          await dialog.locator("textarea[name=system]").fill("Answer like a pirate.");
          await dialog.locator("input[name=temperature]").fill("5");
          await dialog.getByText("A number from 0 to 2").waitFor();
          assert.equal(await dialog.getByRole("button", { name: "Save" }).isDisabled(), true);
          await dialog.locator("input[name=temperature]").fill("0.3");
          await dialog.locator("input[name=max_tokens]").fill("42");
          await screenshot(page, "05-settings");
          await dialog.getByRole("button", { name: "Save" }).click();
          await sendMessage(page, "Hello");
          await lastReply(page);
          const job = server.service.lastJob;
          assert.ok("messages" in job.input);
          assert.deepEqual(job.input.messages[0], {
            role: "system",
            content: "Answer like a pirate.",
          });
          assert.equal(job.sampling.temperature, 0.3);
          assert.equal(job.maxTokens, 42);
          clean(watch);
          await context.close();
        });

        await t.step(
          "an absent model is offered for download; a message waits for it and goes when ready",
          async () => {
            server.service.script = {
              deltas: ["Downloaded and answering"],
              finishReason: "stop",
              promptTokens: 2,
            };
            const { page, watch, context } = await open(browser!, server);
            await page.getByTestId("model-picker").click();
            const row = page.locator("[data-model='qwen-3-0.6b']");
            assert.equal(await row.getAttribute("data-state"), "absent");
            await screenshot(page, "06-picker");
            await row.locator(".model-main").click();
            const offer = page.locator("[data-dialog=download]");
            await offer.getByText("Download Qwen 3 0.6B?").waitFor();
            // The click returns before the page's request reaches the node: wait for its answer.
            const answered = page.waitForResponse((response) =>
              response.request().method() === "POST" && response.url().endsWith("/download")
            );
            await offer.getByRole("button", { name: "Download" }).click();
            await answered;
            assert.deepEqual(server.downloads.prefetched, ["qwen-3-0.6b"]);
            server.downloads.set("mac1", "qwen-3-0.6b", 400_000_000, 1_000_000_000);
            server.downloads.set("mac2", "qwen-3-0.6b", 100_000_000, 500_000_000);
            await page.getByTestId("model-picker").filter({ hasText: "Qwen 3 0.6B" }).waitFor();
            await page.locator("[data-download-node=mac2]").filter({ hasText: "20%" }).waitFor();

            const jobsBefore = server.service.jobs.length;
            await sendMessage(page, "Are you there?");
            await page.locator(".live-status").filter({
              hasText: /Waiting for Qwen 3 0\.6B to download: 33%/,
            }).waitFor();
            await screenshot(page, "07-waiting-for-download");
            assert.equal(
              server.service.jobs.length,
              jobsBefore,
              "nothing is sent while the model downloads",
            );

            server.downloads.set("mac1", "qwen-3-0.6b", 1_000_000_000, 1_000_000_000, true);
            server.downloads.set("mac2", "qwen-3-0.6b", 500_000_000, 500_000_000, true);
            const entry = server.service.modelList.find((m) => m.id === "qwen-3-0.6b")!;
            entry.availableLocally = true;
            entry.localBytes = 2 ** 30;
            const reply = await lastReply(page);
            assert.equal(await reply.locator(".markdown").innerText(), "Downloaded and answering");
            assert.equal(server.service.lastJob.model, "qwen-3-0.6b");
            clean(watch);
            await context.close();
          },
        );

        await t.step("deleting a local model says how much it frees and asks first", async () => {
          const { page, watch, context } = await open(browser!, server);
          await page.getByTestId("model-picker").click();
          await page.getByRole("button", { name: "Delete Qwen 3 0.6B" }).click();
          const dialog = page.locator("[data-dialog=delete-model]");
          assert.match(await dialog.innerText(), /frees 1\.0 GB on node mac1/);
          await screenshot(page, "08-delete-model");
          await dialog.getByRole("button", { name: "Cancel" }).click();
          assert.deepEqual(server.downloads.removed, []);
          await page.getByTestId("model-picker").click();
          await page.getByRole("button", { name: "Delete Qwen 3 0.6B" }).click();
          await page.locator("[data-dialog=delete-model] [data-confirm]").click();
          await page.getByTestId("model-picker").click();
          await page.locator("[data-model='qwen-3-0.6b'][data-state=absent]").waitFor();
          assert.deepEqual(server.downloads.removed, ["qwen-3-0.6b"]);
          clean(watch);
          await context.close();
        });

        await t.step(
          "a node with --api-key: the page asks for the key once and keeps it",
          async () => {
            keyed.service.script = {
              deltas: ["Authorized"],
              finishReason: "stop",
              promptTokens: 2,
            };
            const { page, watch, context } = await open(browser!, keyed);
            const dialog = page.locator("[data-dialog=api-key]");
            await dialog.waitFor();
            await screenshot(page, "09-api-key");
            await dialog.locator("input[name=api_key]").fill("sekret-key");
            await dialog.getByRole("button", { name: "Use key" }).click();
            await page.getByTestId("model-picker").filter({ hasText: "Llama 3.2 1B" }).waitFor();
            await sendMessage(page, "Let me in");
            assert.equal(
              await (await lastReply(page)).locator(".markdown").innerText(),
              "Authorized",
            );
            await page.reload();
            await page.getByTestId("model-picker").filter({ hasText: "Llama 3.2 1B" }).waitFor();
            assert.equal(await dialog.count(), 0, "the key is kept");
            assert.deepEqual(watch.errors.filter((e) => !/status of 401/.test(e)), []);
            assert.deepEqual(watch.offLoopback(), []);
            await context.close();
          },
        );

        await t.step("phone-sized and dark: the history and cluster become drawers", async () => {
          server.service.script = {
            deltas: ["Small screens work too.\n\n", "```sh\nls -la\n```"],
            finishReason: "stop",
            promptTokens: 2,
          };
          const { page, watch, context } = await open(browser!, server, {
            width: 390,
            height: 844,
            dark: true,
          });
          await sendMessage(page, "Does this work on a phone?");
          await lastReply(page);
          assert.equal(await page.locator(".sidebar").isVisible(), true, "in the DOM");
          const box = await page.locator(".sidebar").boundingBox();
          assert.ok(
            box !== null && box.x + box.width <= 0,
            "the history is off screen until opened",
          );
          await screenshot(page, "10-phone-dark");
          await page.getByRole("button", { name: "Conversations", exact: true }).click();
          await eventually(
            async () => (await page.locator(".sidebar").boundingBox())!.x >= 0,
            "the history slides in",
          );
          await screenshot(page, "11-phone-history");
          await page.locator(".scrim").click({ position: { x: 370, y: 400 } });
          await page.getByRole("button", { name: "2 nodes" }).click();
          await page.locator("[data-node=mac2]").waitFor();
          await eventually(async () => {
            const panel = (await page.locator(".cluster").boundingBox())!;
            return panel.x + panel.width <= 391;
          }, "the cluster panel slides in");
          await screenshot(page, "12-phone-cluster");
          clean(watch);
          await context.close();
        });
      } finally {
        await browser?.close();
        await server.close();
        await keyed.close();
      }
    },
  ),
);
