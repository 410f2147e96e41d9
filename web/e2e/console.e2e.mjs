// End-to-end test of the admin console in headless Chromium (Debian's
// package, driven by playwright-core: no browser download). Run by
// e2e/console_test.go, which starts `sluice serve` and a fake OpenAI
// upstream and passes their addresses in the environment. Each step logs
// one line; every page is saved as a screenshot in $SCREENSHOTS.
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (this script is run by e2e/console_test.go)`);
  return v;
};
const BASE = env("SLUICE_URL");
const EMAIL = env("SLUICE_ADMIN_EMAIL");
const PASSWORD = env("SLUICE_ADMIN_PASSWORD");
const UPSTREAM_URL = env("UPSTREAM_URL");
const UPSTREAM_KEY = env("UPSTREAM_KEY");
const SHOTS = env("SCREENSHOTS");

// A fresh user-data dir per run: no state leaks between runs.
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "sluice-chromium-")), {
  executablePath: env("CHROMIUM"),
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"],
});
const browser = context;
context.setDefaultTimeout(15_000);
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));

let n = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    await page.screenshot({ path: join(SHOTS, `FAILED-${name.replace(/\W+/g, "-")}.png`), fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
    if (consoleErrors.length) console.log("browser console errors:\n  " + consoleErrors.join("\n  "));
    await browser.close();
    process.exit(1);
  }
}
async function shot(name) {
  n++;
  await page.screenshot({ path: join(SHOTS, `${String(n).padStart(2, "0")}-${name}.png`), fullPage: true });
}
/** v1 calls the data plane as the consumer would. */
async function v1(method, path, key, body) {
  const res = await fetch(BASE + "/v1" + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

await step("an unknown visitor is sent to the login page", async () => {
  await page.goto(BASE + "/providers");
  await page.getByRole("button", { name: "Log in" }).waitFor();
  assert.match(page.url(), /\/login\?next=%2Fproviders/);
  await shot("login");
});

await step("a wrong password is refused beside the form", async () => {
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").filter({ hasText: "invalid email or password" }).waitFor();
});

await step("log in and land on the page asked for", async () => {
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Providers" }).waitFor();
  assert.match(page.url(), /\/providers$/);
});

await step("create a team (validation first, then the API)", async () => {
  await page.getByRole("link", { name: "Teams" }).click();
  await page.getByRole("button", { name: "New team" }).click();
  await page.getByRole("button", { name: "Create team" }).click();
  await page.getByText("A team needs a name.").waitFor();
  await page.getByLabel("Name").fill("Platform");
  await page.getByRole("button", { name: "Create team" }).click();
  await page.getByRole("cell", { name: "Platform" }).waitFor();
  await shot("teams");
});

void UPSTREAM_URL; void UPSTREAM_KEY; void v1;

await step("no errors in the browser console", async () => {
  assert.deepEqual(consoleErrors.filter((e) => !/401|Failed to load resource/.test(e)), []);
});

await browser.close();
console.log(`screenshots in ${SHOTS}`);
