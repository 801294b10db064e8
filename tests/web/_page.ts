/**
 * What the page tests do in a browser: open the page at a size and color scheme, send a
 * message, wait for a reply, and check the layout with numbers (nothing wider than the
 * viewport, a box inside it, a text shown once).
 * @module
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { PageWatch } from "./_browser.ts";
import type { PageServer } from "./_page_app.ts";
import { eventually } from "../cluster/_serving.ts";

/** A page open in its own browser context. */
export interface Open {
  context: BrowserContext;
  page: Page;
  watch: PageWatch;
}

/** A viewport and color scheme to test the page at. */
export interface Look {
  width: number;
  height: number;
  dark: boolean;
}

/** The sizes of issue 27: a laptop window and a phone, each light and dark. */
export const LOOKS: readonly Look[] = [
  { width: 1280, height: 800, dark: false },
  { width: 1280, height: 800, dark: true },
  { width: 390, height: 844, dark: false },
  { width: 390, height: 844, dark: true },
];

/** `1280-light`, `390-dark`: for screenshot names. */
export function lookName(look: Look): string {
  return `${look.width}-${look.dark ? "dark" : "light"}`;
}

/** Opens the page of `server` in a new context. */
export async function open(
  browser: Browser,
  server: PageServer,
  options: Partial<Look> = {},
): Promise<Open> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.dark ? "dark" : "light",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const page = await context.newPage();
  const watch = new PageWatch(page);
  await page.goto(server.url);
  return { context, page, watch };
}

/** Types a message and presses Enter. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
}

/** The last reply, once its figures are shown (the stream has ended). */
export async function lastReply(page: Page): Promise<Locator> {
  const reply = page.locator(".message.assistant").last();
  await reply.locator("[data-stat=finish]").waitFor();
  return reply;
}

/** No console error, no uncaught error, no request off loopback. */
export function clean(watch: PageWatch): void {
  assert.deepEqual(watch.errors, [], "no console or uncaught errors");
  assert.deepEqual(watch.offLoopback(), [], "no request leaves loopback");
}

/** How wide the page is against the viewport, and whether a column overflows. */
export interface Widths {
  viewport: number;
  /** The document's scroll width: above the viewport, the page pans. */
  page: number;
  /** Content wider than the chat column and than the cluster panel (0: none). */
  mainOverflow: number;
  clusterOverflow: number;
}

// Evaluated in the page (this file is type-checked without the DOM library).
const MEASURE_WIDTHS = `(() => {
  const overflow = (selector) => {
    const el = document.querySelector(selector);
    return el === null ? 0 : Math.max(0, el.scrollWidth - el.clientWidth);
  };
  return {
    viewport: innerWidth,
    page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    mainOverflow: overflow(".main"),
    clusterOverflow: overflow(".cluster"),
  };
})()`;

/** Measures {@linkcode Widths}. */
export function widths(page: Page): Promise<Widths> {
  return page.evaluate<Widths>(MEASURE_WIDTHS);
}

/** Fails unless nothing is wider than the viewport; returns the widths for the record. */
export async function assertNoPanning(page: Page, state: string): Promise<Widths> {
  const measured = await widths(page);
  assert.ok(
    measured.page <= measured.viewport && measured.mainOverflow === 0 &&
      measured.clusterOverflow === 0,
    `${state}: the page is ${measured.page} px wide in a ${measured.viewport} px viewport ` +
      `(chat column overflows by ${measured.mainOverflow} px, cluster panel by ` +
      `${measured.clusterOverflow} px)`,
  );
  return measured;
}

/** Fails unless `locator`'s box lies inside the viewport and its content inside the box. */
export async function assertInViewport(page: Page, locator: Locator, what: string): Promise<void> {
  const box = await locator.boundingBox();
  assert.ok(box !== null, `${what} is shown`);
  const viewport = page.viewportSize()!;
  assert.ok(
    box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width &&
      box.y + box.height <= viewport.height,
    `${what} is inside the ${viewport.width}×${viewport.height} viewport: ` +
      `x ${box.x}, y ${box.y}, ${box.width}×${box.height}`,
  );
  const inner = await locator.evaluate((el) => el.scrollWidth - el.clientWidth);
  assert.equal(inner, 0, `nothing in ${what} is wider than it`);
}

/** How many times `text` is in the page's visible text (hidden drawers do not count). */
export async function timesShown(page: Page, text: string): Promise<number> {
  const shown = await page.evaluate<string>("document.body.innerText");
  return shown.split(text).length - 1;
}

const AT_END = `(() => {
  const el = document.querySelector(".conversation");
  return el !== null && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
})()`;

/** Waits until the conversation has (smoothly) scrolled to its last message. */
export async function scrolledToEnd(page: Page): Promise<void> {
  await eventually(() => page.evaluate<boolean>(AT_END), "the conversation shows its end");
}
