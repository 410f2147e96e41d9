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
  await page.screenshot({ path: join(SHOTS, `${String(n).padStart(2, "0")}-${name}.png`) });
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


/** adminApi calls the admin API with a session of its own (set-up the UI is not under test for). */
let adminToken = "";
async function adminApi(method, path, body) {
  if (!adminToken) {
    const r = await fetch(BASE + "/admin/api/v1/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
    adminToken = (await r.json()).token;
  }
  const res = await fetch(BASE + "/admin/api/v1" + path, {
    method, headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const nav = (name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
const dialog = (name) => page.getByRole("dialog", { name });

await step("add a provider (credential write-only) and test its connection", async () => {
  await nav("Providers");
  await page.getByRole("button", { name: "New provider" }).click();
  const d = dialog("New provider");
  await d.getByLabel("Name", { exact: true }).fill("openai-main");
  await d.getByLabel("Kind", { exact: true }).selectOption("openai");
  await d.getByLabel("Base URL").fill(UPSTREAM_URL);
  await d.getByLabel("API key").fill(UPSTREAM_KEY);
  await d.getByRole("button", { name: "Create provider" }).click();
  await page.getByRole("table", { name: "Providers" }).getByText("openai-main", { exact: true }).waitFor();
  assert.ok(!(await page.content()).includes(UPSTREAM_KEY), "the provider's credential is on the page");
  await page.getByRole("button", { name: "Test connection to openai-main" }).click();
  await dialog("Test connection: openai-main").getByText(/Connected in \d+ ms/).waitFor();
  await shot("provider-test-connection");
  await page.keyboard.press("Escape");
  await shot("providers");
});

await step("add a model routed to the provider, with prices", async () => {
  await nav("Models & routes");
  await page.getByRole("button", { name: "New model" }).click();
  const d = dialog("New model");
  await d.getByLabel("Name", { exact: true }).fill("gpt-4o-mini");
  await d.getByLabel("Input price (USD per 1M tokens)").fill("0.15");
  await d.getByLabel("Output price (USD per 1M tokens)").fill("0.6");
  await d.getByLabel("Provider of target 1").selectOption({ label: "openai-main" });
  await d.getByLabel("Upstream model of target 1").fill("gpt-4o-mini-2024-07-18");
  await shot("model-form");
  await d.getByRole("button", { name: "Create model" }).click();
  await page.getByRole("table", { name: "Models" }).getByText("gpt-4o-mini", { exact: true }).waitFor();
  await shot("models");
});

await step("create a service with manual approval", async () => {
  await nav("Services");
  await page.getByRole("button", { name: "New service" }).click();
  const d = dialog("New service");
  await d.getByLabel("Name", { exact: true }).fill("Chat API");
  assert.equal(await d.getByLabel("Slug").inputValue(), "chat-api");
  await d.getByLabel("Team", { exact: true }).selectOption({ label: "Platform" });
  await d.getByRole("radio", { name: /Manual/ }).check();
  await d.getByRole("checkbox", { name: "gpt-4o-mini" }).check();
  await d.getByRole("button", { name: "Create service" }).click();
  await page.getByRole("heading", { name: "Chat API" }).waitFor();
  await shot("service-detail");
  await nav("Services");
  await page.getByRole("table", { name: "Services" }).getByText("Chat API").first().waitFor();
  await shot("services");
});

let key = "";
await step("create a consumer and a key, shown once", async () => {
  await nav("Consumers & keys");
  await page.getByRole("button", { name: "New consumer" }).click();
  const d = dialog("New consumer");
  await d.getByLabel("Name", { exact: true }).fill("Billing app");
  await d.getByLabel("Team", { exact: true }).selectOption({ label: "Platform" });
  await d.getByRole("button", { name: "Create consumer" }).click();
  const heading = page.getByRole("heading", { name: "Billing app" });
  await heading.or(page.getByRole("table", { name: "Consumers" }).getByText("Billing app")).first().waitFor();
  if (!(await heading.isVisible())) await page.getByRole("table", { name: "Consumers" }).getByText("Billing app").first().click();
  await heading.waitFor();
  await page.getByRole("button", { name: "Create key" }).click();
  const kd = dialog("Create key");
  await kd.getByLabel("Key name").fill("production");
  await kd.getByRole("button", { name: "Create key" }).click();
  const shown = dialog("Key created");
  key = await shown.getByLabel("New key").inputValue();
  assert.ok(key.length > 40, `key looks wrong: ${key}`);
  await shown.getByRole("button", { name: "Copy key" }).waitFor();
  await shot("key-shown-once");
  await shown.getByRole("button", { name: "Done" }).click();
  await page.getByRole("table", { name: "Keys" }).getByText("production").waitFor();
  assert.ok(!(await page.content()).includes(key), "the key is still on the page after the dialog closed");
  await page.reload();
  await page.getByRole("table", { name: "Keys" }).getByText("production").waitFor();
  assert.ok(!(await page.content()).includes(key), "the key is shown again");
  await shot("consumer-keys");
});

await step("the consumer asks for a subscription through the data plane", async () => {
  const r = await v1("POST", "/subscriptions", key, { service: "chat-api" });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json().status, "pending");
  const refused = await v1("POST", "/chat/completions", key, { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
  assert.equal(refused.status, 403, refused.text);
});

await step("approve it in the queue", async () => {
  await nav("Subscriptions");
  const row = page.getByRole("row", { name: /Billing app/ });
  await row.waitFor();
  await shot("approval-queue");
  await row.getByRole("button", { name: "Approve" }).click();
  await page.getByRole("row", { name: /Billing app/ }).getByText("approved").waitFor();
  await page.getByRole("row", { name: /Billing app/ }).click();
  await dialog(/Subscription #\d+/).getByText("pending").first().waitFor();
  await shot("subscription-history");
  await page.keyboard.press("Escape");
});

await step("make calls: plain, streamed, and one the upstream refuses", async () => {
  for (let i = 0; i < 6; i++) {
    const r = await v1("POST", "/chat/completions", key, { model: "gpt-4o-mini", messages: [{ role: "user", content: `question ${i}` }] });
    assert.equal(r.status, 200, r.text);
  }
  for (let i = 0; i < 2; i++) {
    const r = await v1("POST", "/chat/completions", key, { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "stream please" }] });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /data: \[DONE\]/);
  }
  const bad = await v1("POST", "/chat/completions", key, { model: "gpt-4o-mini", messages: "not a list" });
  assert.equal(bad.status, 400, bad.text);
});

await step("see the calls in the call log and open one's waterfall", async () => {
  await nav("Call log");
  const rows = page.getByRole("table", { name: "Calls" }).locator("tbody tr");
  for (let i = 0; (await rows.count()) < 9; i++) {
    assert.ok(i < 40, `only ${await rows.count()} calls in the log`);
    await page.waitForTimeout(250);
    await page.getByRole("button", { name: "Refresh" }).click();
  }
  await shot("call-log");
  await page.getByRole("table", { name: "Calls" }).locator("tbody tr").filter({ hasText: "200" }).first().click();
  await page.getByRole("heading", { name: /^Call / }).waitFor();
  const bars = page.locator("[data-testid=waterfall] .wf-bar");
  await bars.first().waitFor();
  const n = await bars.count();
  assert.ok(n >= 5, `only ${n} waterfall bars`);
  for (let i = 0; i < n; i++) {
    const box = await bars.nth(i).boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, `bar ${i} is not drawn`);
  }
  const names = await bars.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""));
  for (const phase of ["auth", "routing", "ttfb"]) assert.ok(names.some((x) => x.startsWith(phase)), `no ${phase} bar in ${names}`);
  await shot("call-waterfall");
});

await step("see the dashboard's charts populated", async () => {
  await nav("Dashboard");
  const totals = page.getByRole("region", { name: "Totals" });
  for (let i = 0; ; i++) {
    const text = await totals.getByRole("group", { name: "Requests" }).innerText().catch(() => "");
    if (/\b(9|1\d)\b/.test(text)) break;
    assert.ok(i < 40, `dashboard requests never reached the calls made: ${text}`);
    await page.waitForTimeout(250);
    await page.getByRole("button", { name: "Refresh" }).click();
  }
  const canvases = page.locator("[data-testid=chart] canvas");
  await canvases.first().waitFor();
  assert.ok((await canvases.count()) >= 4, "fewer than four charts drawn");
  const inked = await canvases.first().evaluate((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(inked > 100, "the requests chart is blank");
  await page.getByRole("table", { name: "Top consumers" }).getByText("Billing app").waitFor();
  await shot("dashboard");
});

await step("write, test-run (streamed) and publish a prompt", async () => {
  await nav("Prompts");
  await page.getByRole("button", { name: "New prompt" }).click();
  const d = dialog("New prompt");
  await d.getByLabel("Name", { exact: true }).fill("Summarize");
  await d.getByLabel("Service", { exact: true }).selectOption({ label: "Chat API (chat-api)" });
  await d.getByRole("button", { name: "Create prompt" }).click();
  await page.getByRole("heading", { name: "Summarize" }).waitFor();
  await page.getByRole("tab", { name: "Editor" }).click();
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "gpt-4o-mini" });
  await page.getByLabel("Message 1 content").fill("You write one-line summaries.");
  await page.getByLabel("Message 2 content").fill("Summarize in one line: {{text}}");
  await page.getByRole("button", { name: /Declare \{\{text\}\}/ }).click();
  await page.getByLabel("Variable 1 name").waitFor();
  assert.equal(await page.getByLabel("Variable 1 name").inputValue(), "text");
  await shot("prompt-editor");
  await page.getByRole("button", { name: "Save version" }).click();
  await page.getByText("latest v1").waitFor();
  await page.getByRole("tab", { name: "Test run" }).click();
  await page.getByLabel("text", { exact: true }).fill("Sluice is an AI gateway.");
  await page.getByRole("button", { name: "Run test" }).click();
  await page.getByRole("status", { name: "Run summary" }).waitFor();
  const out = await page.getByLabel("Output").innerText();
  assert.ok(out.trim().length > 0, "the test run streamed no output");
  await shot("prompt-test-run");
  await page.getByRole("tab", { name: "Versions" }).click();
  await page.getByRole("button", { name: "Publish version 1" }).click();
  await dialog("Publish version 1").getByRole("button", { name: "Publish v1" }).click();
  await page.getByText("Published v1").first().waitFor();
  await shot("prompt-versions");
  const r = await v1("POST", "/prompts/summarize", key, { variables: { text: "Sluice routes calls." } });
  assert.equal(r.status, 200, r.text);
});

await step("analytics, audit log and users pages render", async () => {
  await nav("Analytics");
  await page.getByRole("table", { name: /Groups by/ }).getByText("Chat API").first().waitFor();
  await shot("analytics");
  await nav("Audit log");
  await page.getByRole("table", { name: "Audit log" }).locator("tbody tr").first().waitFor();
  await shot("audit");
  await nav("Users");
  await page.getByRole("table", { name: "Users" }).getByText(EMAIL).first().waitFor();
  await shot("users");
});

await step("a narrow window gets the collapsed menu", async () => {
  await page.setViewportSize({ width: 420, height: 860 });
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Call log" }).click();
  await page.getByRole("heading", { name: "Call log" }).waitFor();
  await shot("narrow-call-log");
  await page.setViewportSize({ width: 1280, height: 860 });
});

await step("a member sees only their team's services and no admin pages", async () => {
  const other = await adminApi("POST", "/teams", { name: "Research" });
  await adminApi("POST", "/services", { name: "Secret lab", slug: "secret-lab", team_id: other.id, approval: "manual" });
  const member = await adminApi("POST", "/users", { email: "dev@example.com", name: "Dev", role: "member", password: "member-password-1" });
  const teams = await adminApi("GET", "/teams?q=Platform");
  await adminApi("POST", `/teams/${teams.data[0].id}/members`, { user_id: member.id });
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Log in" }).waitFor();
  await page.getByLabel("Email").fill("dev@example.com");
  await page.getByLabel("Password").fill("member-password-1");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByText("member", { exact: true }).waitFor();
  const navText = await page.getByRole("navigation", { name: "Main" }).innerText();
  assert.ok(!/\bUsers\b|\bTeams\b/.test(navText), `a member's menu offers admin pages: ${navText}`);
  await nav("Services");
  await page.getByRole("table", { name: "Services" }).getByText("Chat API").first().waitFor();
  assert.equal(await page.getByRole("table", { name: "Services" }).getByText("Secret lab").count(), 0, "a member sees another team's service");
  await shot("member-services");
});

await step("session expiry returns to the login page", async () => {
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("sluice.session"));
    s.token = s.token.slice(0, -4) + "AAAA";
    localStorage.setItem("sluice.session", JSON.stringify(s));
  });
  await page.reload();
  await page.getByRole("button", { name: "Log in" }).waitFor();
  await page.getByText("Your session expired").waitFor();
});

await step("no errors in the browser console", async () => {
  assert.deepEqual(consoleErrors.filter((e) => !/401|Failed to load resource/.test(e)), []);
});

await browser.close();
console.log(`screenshots in ${SHOTS}`);
