import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import type { Provider } from "../api/types";
import { ConfirmHost } from "../components/dialog";
import { apiError, at, choose, mockFetch, pageOf, signInAs } from "../lib/providers.testutil";
import Providers from "./Providers";

const prov = (id: number, name: string, patch: Partial<Provider> = {}): Provider => ({
  id, name, kind: "openai", base_url: "", has_api_key: true, settings: {}, headers: {}, timeout_ms: 0, enabled: true,
  created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", ...patch,
});

const openai = prov(1, "openai-main", { timeout_ms: 30000 });
const azure = prov(2, "azure-eu", { kind: "azure", base_url: "https://eu.openai.azure.com", has_api_key: false, enabled: false, settings: { deployment: "gpt4o" }, headers: { "X-Team": "a" } });

const breakers = {
  data: [
    { target_id: "openai-main/gpt-4o", state: "closed", consecutive_failures: 0 },
    { target_id: "openai-main/gpt-4o-mini", state: "open", consecutive_failures: 7, opened_at: new Date(Date.now() - 120_000).toISOString() },
  ],
};

function renderAt(path: string) {
  const r = at(path, <>
    <Route path="/providers" component={Providers} />
    <Route path="/providers/:id" component={Providers} />
    <ConfirmHost />
  </>);
  render(r.tree);
  return r;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("Providers page", () => {
  it("lists providers with kind filter from the URL, credential, timeout and the worst breaker state", async () => {
    signInAs("admin");
    const calls = mockFetch({ "GET /providers": pageOf([openai, azure]), "GET /breakers": breakers });
    renderAt("/providers?kind=openai&q=main");
    const table = await screen.findByRole("table", { name: "Providers" });
    const row = (await within(table).findByText("openai-main")).closest("tr")!;
    expect(within(row).getByText("default")).toBeTruthy();
    expect(within(row).getByText("https://api.openai.com/v1")).toBeTruthy();
    expect(within(row).getByText("stored")).toBeTruthy();
    expect(within(row).getByText("30 s")).toBeTruthy();
    await waitFor(() => expect(within(row).getByText("open")).toBeTruthy());
    expect(within(row).getByText(/7 failures/)).toBeTruthy();
    expect(within(row).getByText(/opened 2 min ago/)).toBeTruthy();
    const other = within(table).getByText("azure-eu").closest("tr")!;
    expect(within(other).getByText("none")).toBeTruthy();
    expect(within(other).getByText("disabled")).toBeTruthy();
    expect(within(other).getByText("no traffic yet")).toBeTruthy();
    const list = calls.find((c) => c.path === "/providers")!;
    expect(list.query.get("kind")).toBe("openai");
    expect(list.query.get("q")).toBe("main");
    expect((screen.getByLabelText("Filter by type") as HTMLSelectElement).value).toBe("openai");
  });

  it("refreshes breaker states every 10 seconds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signInAs("admin");
    const calls = mockFetch({ "GET /providers": pageOf([openai]), "GET /breakers": breakers });
    renderAt("/providers");
    await screen.findByText("openai-main");
    const n = calls.filter((c) => c.path === "/breakers").length;
    await vi.advanceTimersByTimeAsync(10_000);
    await waitFor(() => expect(calls.filter((c) => c.path === "/breakers").length).toBe(n + 1));
  });

  it("hides admin actions from members", async () => {
    signInAs("member");
    mockFetch({ "GET /providers": pageOf([openai]), "GET /breakers": { data: [] } });
    renderAt("/providers");
    await screen.findByText("openai-main");
    expect(screen.queryByRole("button", { name: "New provider" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Test connection/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Edit/ })).toBeNull();
  });

  it("tests a connection and shows latency and the models listed, or the error", async () => {
    signInAs("admin");
    const calls = mockFetch({
      "GET /providers": pageOf([openai]),
      "GET /breakers": { data: [] },
      "POST /providers/1/test": (c: { body: { model?: string } }) => c.body?.model
        ? { ok: false, check: "chat", model: c.body.model, latency_ms: 40, status: 404, error: "model not found" }
        : { ok: true, check: "list_models", latency_ms: 123, models: ["gpt-4o", "gpt-4o-mini"] },
    });
    renderAt("/providers");
    fireEvent.click(await screen.findByRole("button", { name: "Test connection to openai-main" }));
    const dialog = await screen.findByRole("dialog", { name: "Test connection: openai-main" });
    await within(dialog).findByText("Connected");
    expect(within(dialog).getByText(/in 123 ms/)).toBeTruthy();
    expect(within(dialog).getByText(/2 models listed/)).toBeTruthy();
    expect(within(dialog).getByText("gpt-4o-mini")).toBeTruthy();
    fireEvent.input(within(dialog).getByLabelText(/Model for a 1-token chat/), { target: { value: "gpt-5" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Run test again" }));
    await within(dialog).findByText(/Connection failed \(HTTP 404\)/);
    expect(within(dialog).getByText(/model not found/)).toBeTruthy();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([{}, { model: "gpt-5" }]);
  });

  it("asks for a model before testing a kind that cannot list its models", async () => {
    signInAs("admin");
    const calls = mockFetch({ "GET /providers": pageOf([prov(3, "claude", { kind: "anthropic" })]), "GET /breakers": { data: [] } });
    renderAt("/providers");
    fireEvent.click(await screen.findByRole("button", { name: "Test connection to claude" }));
    const dialog = await screen.findByRole("dialog", { name: "Test connection: claude" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Run test" }));
    await within(dialog).findByText(/cannot list its models/);
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("validates the form, then creates and shows the API's field error on the settings row", async () => {
    signInAs("admin");
    let posted: unknown;
    mockFetch({
      "GET /providers": pageOf([]),
      "GET /breakers": { data: [] },
      "POST /providers": (c: { body: unknown }) => { posted = c.body; return apiError(400, "azure: setting deployment is bad", "settings.deployment"); },
    });
    renderAt("/providers");
    fireEvent.click(await screen.findByRole("button", { name: "New provider" }));
    const dialog = await screen.findByRole("dialog", { name: "New provider" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create provider" }));
    expect(await within(dialog).findByText("A provider needs a name.")).toBeTruthy();
    expect(posted).toBeUndefined();

    fireEvent.input(within(dialog).getByLabelText("Name"), { target: { value: "az" } });
    choose(within(dialog).getByLabelText("Kind"), "azure");
    expect(await within(dialog).findByText(/resource endpoint/)).toBeTruthy();
    fireEvent.click(within(dialog).getByRole("button", { name: "Create provider" }));
    expect(await within(dialog).findByText("A base URL is required for azure: it has no default.")).toBeTruthy();

    fireEvent.input(within(dialog).getByLabelText("Base URL"), { target: { value: "https://x.openai.azure.com" } });
    fireEvent.input(within(dialog).getByLabelText("API key"), { target: { value: "secret" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add setting deployment" }));
    fireEvent.input(within(dialog).getByLabelText("Setting 1 value"), { target: { value: "bad" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add header" }));
    fireEvent.input(within(dialog).getByLabelText("Header 1 key"), { target: { value: "X-Team" } });
    fireEvent.input(within(dialog).getByLabelText("Header 1 value"), { target: { value: "blue" } });
    fireEvent.input(within(dialog).getByLabelText("Timeout (ms)"), { target: { value: "15000" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create provider" }));
    await waitFor(() => expect(posted).toBeDefined());
    expect(posted).toEqual({
      name: "az", kind: "azure", base_url: "https://x.openai.azure.com", api_key: "secret",
      settings: { deployment: "bad" }, headers: { "X-Team": "blue" }, timeout_ms: 15000, enabled: true,
    });
    const err = await within(dialog).findByText("azure: setting deployment is bad");
    expect(err.closest(".prov-row")!.querySelector("input")!.value).toBe("deployment");
  });

  it("edits without sending the key unless typed, and removes it with the checkbox", async () => {
    signInAs("admin");
    const bodies: unknown[] = [];
    mockFetch({
      "GET /providers": pageOf([openai]),
      "GET /breakers": { data: [] },
      "PATCH /providers/1": (c: { body: unknown }) => { bodies.push(c.body); return openai; },
    });
    renderAt("/providers");
    fireEvent.click(await screen.findByRole("button", { name: "Edit openai-main" }));
    let dialog = await screen.findByRole("dialog", { name: "Edit provider openai-main" });
    expect((within(dialog).getByLabelText("API key") as HTMLInputElement).value).toBe("");
    expect(within(dialog).getByText(/Leave empty to keep the stored key/)).toBeTruthy();
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(bodies).toHaveLength(1));
    expect(bodies[0]).not.toHaveProperty("api_key");
    // Let the dialog close (and its close event fire) before opening it again.
    await waitFor(() => expect(document.querySelector("dialog[open]")).toBeNull());
    await new Promise((r) => setTimeout(r, 20));

    fireEvent.click(await screen.findByRole("button", { name: "Edit openai-main" }));
    dialog = await screen.findByRole("dialog", { name: "Edit provider openai-main" });
    fireEvent.click(within(dialog).getByLabelText("Remove stored key"));
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(bodies).toHaveLength(2));
    expect((bodies[1] as { api_key: string }).api_key).toBe("");
  });

  it("confirms a delete and shows why the API refused it", async () => {
    signInAs("admin");
    const calls = mockFetch({
      "GET /providers": pageOf([openai]),
      "GET /breakers": { data: [] },
      "DELETE /providers/1": apiError(409, 'provider "openai-main" is a target of models gpt-4o; remove it from their targets first'),
    });
    renderAt("/providers");
    fireEvent.click(await screen.findByRole("button", { name: "Delete openai-main" }));
    const confirmDialog = await screen.findByRole("dialog", { name: "Delete provider" });
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(within(confirmDialog).getByRole("button", { name: "Delete provider" }));
    expect(await screen.findByText(/is a target of models gpt-4o/)).toBeTruthy();
    expect(screen.getByText(/Cannot delete openai-main/)).toBeTruthy();
  });

  it("opens a provider's detail at /providers/:id", async () => {
    signInAs("admin");
    mockFetch({ "GET /providers": pageOf([openai, azure]), "GET /providers/2": azure, "GET /breakers": { data: [{ target_id: "azure-eu/gpt-4o", state: "half-open", consecutive_failures: 3, opened_at: new Date().toISOString() }] } });
    const { loc } = renderAt("/providers/2?kind=azure");
    const dialog = await screen.findByRole("dialog", { name: "Provider azure-eu" });
    expect(await within(dialog).findByText("azure-eu/gpt-4o")).toBeTruthy();
    expect(within(dialog).getByText("half-open")).toBeTruthy();
    expect(within(dialog).getByText("deployment")).toBeTruthy();
    fireEvent.click(within(dialog).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(loc.history!.at(-1)).toBe("/providers?kind=azure"));
  });
});
