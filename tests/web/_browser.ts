/**
 * A real headless Chromium for the page tests (Debian's `chromium`, driven by
 * playwright-core), with what every page test checks: no console errors, no uncaught
 * errors, and no request to anything but the node on loopback. Screenshots go to
 * `test-artifacts/web/` (or `$EXO_TEST_ARTIFACTS`), to be looked at.
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { fileURLToPath } from "node:url";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** Chromium's path: `$CHROMIUM_PATH`, else the first of the usual places that exists. */
export function chromiumPath(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  if (fromEnv) return fromEnv;
  for (const path of CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not here; try the next.
    }
  }
  return null;
}

const FOUND = chromiumPath();
const REQUIRED = Deno.env.get("EXO_REQUIRE_BROWSER") === "1";

/**
 * The options of a browser test: skipped, with the reason in its name, only when no
 * Chromium is installed and `EXO_REQUIRE_BROWSER` (set by CI) does not ask for one.
 */
export function browserTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): Deno.TestDefinition {
  const skip = FOUND === null && !REQUIRED;
  return {
    name: skip
      ? `${name} (skipped: no Chromium found; apt-get install chromium, or set CHROMIUM_PATH)`
      : name,
    ignore: skip,
    fn: async (t) => {
      if (FOUND === null) {
        throw new Error("Cannot run the browser test: no Chromium found and EXO_REQUIRE_BROWSER=1");
      }
      await fn(t);
    },
  };
}

/** Launches headless Chromium with the network quiet (no background requests to Google). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: FOUND!,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-extensions",
    ],
  });
}

/** Watches a page for console errors, uncaught errors and requests off loopback. */
export class PageWatch {
  readonly errors: string[] = [];
  readonly requests: string[] = [];

  /** Starts watching `page`. */
  constructor(page: Page) {
    page.on("console", (message) => {
      if (message.type() === "error") this.errors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => this.errors.push(`uncaught: ${error.message}`));
    page.on("request", (request) => this.requests.push(request.url()));
  }

  /** Requests whose host is not 127.0.0.1 or localhost. */
  offLoopback(): string[] {
    return this.requests.filter((url) => {
      const { protocol, hostname } = new URL(url);
      if (protocol === "data:" || protocol === "blob:") return false;
      return hostname !== "127.0.0.1" && hostname !== "localhost";
    });
  }
}

const ARTIFACTS = Deno.env.get("EXO_TEST_ARTIFACTS") ??
  fileURLToPath(new URL("../../test-artifacts/web/", import.meta.url));

/** Saves a screenshot of the page as `<artifacts>/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS.replace(/\/$/, "")}/${name}.png`;
  await page.screenshot({ path, animations: "disabled", caret: "hide" });
  return path;
}

/** Writes `text` as `<artifacts>/<name>`; returns its path. */
export async function saveArtifact(name: string, text: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS.replace(/\/$/, "")}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}
