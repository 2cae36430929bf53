// Drives casehub's GraphiQL page in Debian's headless Chromium (playwright-core) for
// tests/browser/test_ide_browser.py: opens the page, answers the token form, waits for the
// schema (the docs explorer), runs the default query, opens a websocket as a subscription
// would, and reports as JSON every request the page made, what the console said, the storage
// and the answer. Usage: CASEHUB_IDE_TOKEN=... node ide_browser.cjs URL SCREENSHOT.
"use strict";
const { chromium } = require("playwright-core");

const [url, screenshot] = [process.argv[2], process.argv[3]];
const token = process.env.CASEHUB_IDE_TOKEN;
const STEP_MS = 30000;

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CASEHUB_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // As this machine's notes say: without these, Chromium reaches for Google's hosts.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const report = { requests: [], sockets: [], console: [], errors: [], steps: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    let calls = 0; // fetch and XMLHttpRequest: GraphiQL's requests, not the page's files
    page.on("request", (request) => {
      report.requests.push(request.url());
      if (["fetch", "xhr"].includes(request.resourceType())) calls += 1;
    });
    page.on("websocket", (socket) => report.sockets.push(socket.url()));
    page.on("console", (message) => report.console.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => report.errors.push(String(error)));
    // What the page's policy refused, as the page itself hears it.
    await page.addInitScript(() => {
      window.__refused = [];
      document.addEventListener("securitypolicyviolation", (event) => {
        window.__refused.push(`${event.violatedDirective} ${event.blockedURI || "inline"}`);
      });
    });
    const introspected = [];
    page.on("response", async (response) => {
      const body = response.request().postData() || "";
      if (body.includes("__schema")) {
        introspected.push({
          status: response.status(),
          authorized: Boolean(response.request().headers()["authorization"]),
        });
      }
    });

    await page.goto(url, { waitUntil: "load" });
    const input = page.locator("#casehub-token-input");
    await input.waitFor({ state: "visible", timeout: STEP_MS });
    report.steps.push("prompt");
    // Nothing asked the API before the token was given.
    report.beforeToken = calls;
    report.graphiqlHiddenBeforeToken = await page.locator("#graphiql").isHidden();

    await input.fill(token);
    await page.locator("#casehub-token button[type=submit]").click();
    await page.locator(".graphiql-execute-button").waitFor({ state: "visible", timeout: STEP_MS });
    report.steps.push("graphiql");

    // The schema arrived: the docs explorer lists the root types.
    await page.waitForFunction(() => document.querySelector(".graphiql-execute-button") !== null);
    await page.locator('[aria-label="Show Documentation Explorer"]').click();
    await page.getByText("Root Types").waitFor({ timeout: STEP_MS });
    await page.locator(".graphiql-doc-explorer-root-type").first().waitFor({ timeout: STEP_MS });
    report.docs = await page.locator(".graphiql-doc-explorer-content").innerText();
    report.introspected = introspected;
    report.steps.push("schema");

    await page.locator(".graphiql-execute-button").click();
    await page.waitForFunction(
      () => (document.querySelector(".result-window") || {}).innerText?.includes('"code"'),
      null,
      { timeout: STEP_MS },
    );
    report.result = await page.locator(".result-window").innerText();
    report.steps.push("query");

    // A subscription's socket: graphql-transport-ws to this origin, the token in
    // connection_init (what GraphiQL's fetcher sends); the policy must let it connect.
    report.socket = await page.evaluate(
      ([address, authorization]) =>
        new Promise((resolve) => {
          let ws;
          try {
            ws = new WebSocket(address, "graphql-transport-ws");
          } catch (error) {
            resolve(`refused: ${error}`);
            return;
          }
          const timer = setTimeout(() => resolve("timeout"), 10000);
          ws.onopen = () =>
            ws.send(JSON.stringify({ type: "connection_init", payload: { Authorization: authorization } }));
          ws.onmessage = (event) => {
            clearTimeout(timer);
            resolve(JSON.parse(event.data).type);
            ws.close();
          };
          ws.onerror = () => {
            clearTimeout(timer);
            resolve("error");
          };
        }),
      [url.replace(/^http/, "ws"), `Bearer ${token}`],
    );
    report.steps.push("socket");

    // A dialog (Radix UI): its scroll lock inserts a <style> element (style-src).
    await page.locator('[aria-label="Open settings dialog"]').click();
    await page.locator('[role="dialog"]').waitFor({ timeout: STEP_MS });
    await page.keyboard.press("Escape");
    report.steps.push("dialog");
    report.refused = await page.evaluate(() => window.__refused);

    report.storage = await page.evaluate(() => {
      const all = (storage) => {
        const kept = {};
        for (let i = 0; i < storage.length; i += 1) kept[storage.key(i)] = storage.getItem(storage.key(i));
        return kept;
      };
      return { local: all(window.localStorage), session: all(window.sessionStorage) };
    });
    report.cookies = await page.context().cookies();
    await page.screenshot({ path: screenshot, fullPage: true });
    report.steps.push("screenshot");
  } catch (error) {
    report.failure = String(error && error.stack ? error.stack : error);
    try {
      const pages = browser.contexts().flatMap((context) => context.pages());
      if (pages.length) await pages[0].screenshot({ path: screenshot });
    } catch (_ignored) {
      // The report says what failed; the screenshot is a bonus.
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
