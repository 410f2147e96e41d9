import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import type { Model, Provider } from "../api/types";
import { ConfirmHost } from "../components/dialog";
import { apiError, at, choose, mockFetch, pageOf, signInAs } from "../lib/providers.testutil";
import Models from "./Models";

const target = (id: number, provider_id: number, provider_name: string, upstream_model: string, weight: number, priority: number) =>
  ({ id, model_id: 7, provider_id, provider_name, provider_kind: "openai", upstream_model, weight, priority });

const gpt: Model = {
  id: 7, name: "gpt-4o", input_price: 2.5, output_price: 10, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
  targets: [target(1, 1, "openai", "gpt-4o", 3, 0), target(2, 2, "azure", "gpt-4o-eu", 1, 0), target(3, 3, "backup", "gpt-4o", 1, 1)],
};
const providers = pageOf([
  { id: 1, name: "openai", kind: "openai", enabled: true },
  { id: 2, name: "azure", kind: "azure", enabled: true },
  { id: 3, name: "backup", kind: "openai-compatible", enabled: false },
] as Provider[]);

function renderAt(path: string) {
  const r = at(path, <>
    <Route path="/models" component={Models} />
    <Route path="/models/:id" component={Models} />
    <ConfirmHost />
  </>);
  render(r.tree);
  return r;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("Models page", () => {
  it("lists models with targets grouped by priority, shares and prices", async () => {
    signInAs("admin");
    const calls = mockFetch({ "GET /models": pageOf([gpt, { ...gpt, id: 8, name: "empty", targets: [], input_price: 0.075, output_price: 0 }]) });
    renderAt("/models?q=gpt&page=2");
    const table = await screen.findByRole("table", { name: "Models" });
    const row = (await within(table).findByText("gpt-4o", { selector: "b" })).closest("tr")!;
    expect(within(row).getByText("primary")).toBeTruthy();
    expect(within(row).getByText("fallback 1")).toBeTruthy();
    expect(within(row).getByText("openai/gpt-4o")).toBeTruthy();
    expect(within(row).getByText(/75% \(w3\)/)).toBeTruthy();
    expect(within(row).getByText(/25% \(w1\)/)).toBeTruthy();
    expect(within(row).getByText("$2.50")).toBeTruthy();
    expect(within(row).getByText("$10.00")).toBeTruthy();
    const empty = within(table).getByText("empty").closest("tr")!;
    expect(within(empty).getByText(/no targets/)).toBeTruthy();
    expect(within(empty).getByText("$0.075")).toBeTruthy();
    const q = calls.find((c) => c.path === "/models")!.query;
    expect(q.get("q")).toBe("gpt");
    expect(q.get("page")).toBe("2");
  });

  it("hides admin actions from members", async () => {
    signInAs("member");
    mockFetch({ "GET /models": pageOf([gpt]) });
    renderAt("/models");
    await screen.findByRole("table", { name: "Models" });
    await screen.findAllByText("primary");
    expect(screen.queryByRole("button", { name: "New model" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit gpt-4o" })).toBeNull();
  });

  it("validates targets, previews the share, sends the model and shows the API's row error", async () => {
    signInAs("admin");
    let posted: any;
    mockFetch({
      "GET /models": pageOf([]),
      "GET /providers": providers,
      "POST /models": (c: { body: unknown }) => { posted = c.body; return apiError(400, "targets[1] repeats targets[0]", "targets[1].upstream_model"); },
    });
    renderAt("/models");
    fireEvent.click(await screen.findByRole("button", { name: "New model" }));
    const d = await screen.findByRole("dialog", { name: "New model" });
    await within(d).findByRole("option", { name: "openai" });
    expect(within(d).getByRole("option", { name: "backup (disabled)" })).toBeTruthy();

    fireEvent.click(within(d).getByRole("button", { name: "Remove target 1" }));
    fireEvent.click(within(d).getByRole("button", { name: "Create model" }));
    expect(await within(d).findByText("A model needs a name, e.g. gpt-4o.")).toBeTruthy();
    expect(within(d).getByText(/Add at least one target/)).toBeTruthy();
    expect(posted).toBeUndefined();

    fireEvent.input(within(d).getByLabelText("Name"), { target: { value: "gpt-4o" } });
    fireEvent.input(within(d).getByLabelText("Input price (USD per 1M tokens)"), { target: { value: "2.5" } });
    fireEvent.click(within(d).getByRole("button", { name: "Add target" }));
    fireEvent.click(within(d).getByRole("button", { name: "Add target" }));
    choose(within(d).getByLabelText("Provider of target 1"), "1");
    choose(within(d).getByLabelText("Provider of target 2"), "2");
    fireEvent.input(within(d).getByLabelText("Upstream model of target 1"), { target: { value: "gpt-4o" } });
    fireEvent.input(within(d).getByLabelText("Upstream model of target 2"), { target: { value: "gpt-4o-eu" } });
    fireEvent.input(within(d).getByLabelText("Weight of target 1"), { target: { value: "0" } });
    fireEvent.click(within(d).getByRole("button", { name: "Create model" }));
    const weightErr = await within(d).findByText(/A whole number from 1 to 1000000/);
    expect(weightErr.closest(".mdl-target")!.getAttribute("data-row")).toBe("0");
    expect(within(d).getByLabelText("Weight of target 1").getAttribute("aria-invalid")).toBe("true");
    expect(posted).toBeUndefined();

    fireEvent.input(within(d).getByLabelText("Weight of target 1"), { target: { value: "3" } });
    const share = within(d).getByRole("region", { name: "Traffic share" });
    await waitFor(() => expect(within(share).getByText("75%")).toBeTruthy());
    expect(within(share).getByText("25%")).toBeTruthy();
    fireEvent.input(within(d).getByLabelText("Priority of target 2"), { target: { value: "1" } });
    await waitFor(() => expect(within(share).getAllByText("100%")).toHaveLength(2));
    expect(within(share).getByText(/fallback 1/)).toBeTruthy();

    fireEvent.click(within(d).getByRole("button", { name: "Create model" }));
    await waitFor(() => expect(posted).toBeDefined());
    expect(posted).toEqual({
      name: "gpt-4o", input_price: 2.5, output_price: 0,
      targets: [
        { provider_id: 1, upstream_model: "gpt-4o", weight: 3, priority: 0 },
        { provider_id: 2, upstream_model: "gpt-4o-eu", weight: 1, priority: 1 },
      ],
    });
    const apiErr = await within(d).findByText("targets[1] repeats targets[0]");
    expect(apiErr.closest(".mdl-target")!.getAttribute("data-row")).toBe("1");

    // Reordering keeps the error beside its row.
    fireEvent.click(within(d).getByRole("button", { name: "Move target 2 up" }));
    await waitFor(() => expect(within(d).getByText("targets[1] repeats targets[0]").closest(".mdl-target")!.getAttribute("data-row")).toBe("0"));
    expect((within(d).getByLabelText("Upstream model of target 1") as HTMLInputElement).value).toBe("gpt-4o-eu");
  });

  it("edits a model, replacing its targets", async () => {
    signInAs("admin");
    let patched: any;
    mockFetch({ "GET /models": pageOf([gpt]), "GET /providers": providers, "PATCH /models/7": (c: { body: unknown }) => { patched = c.body; return gpt; } });
    renderAt("/models");
    fireEvent.click(await screen.findByRole("button", { name: "Edit gpt-4o" }));
    const d = await screen.findByRole("dialog", { name: "Edit model gpt-4o" });
    expect((within(d).getByLabelText("Weight of target 1") as HTMLInputElement).value).toBe("3");
    fireEvent.click(within(d).getByRole("button", { name: "Remove target 3" }));
    fireEvent.click(within(d).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(patched).toBeDefined());
    expect(patched.targets).toEqual([
      { provider_id: 1, upstream_model: "gpt-4o", weight: 3, priority: 0 },
      { provider_id: 2, upstream_model: "gpt-4o-eu", weight: 1, priority: 0 },
    ]);
  });

  it("confirms a delete and shows the API's refusal", async () => {
    signInAs("admin");
    const calls = mockFetch({ "GET /models": pageOf([gpt]), "DELETE /models/7": apiError(409, "model gpt-4o is offered by services support-bot") });
    renderAt("/models");
    fireEvent.click(await screen.findByRole("button", { name: "Delete gpt-4o" }));
    const c = await screen.findByRole("dialog", { name: "Delete model" });
    expect(calls.some((x) => x.method === "DELETE")).toBe(false);
    fireEvent.click(within(c).getByRole("button", { name: "Delete model" }));
    expect(await screen.findByText(/offered by services support-bot/)).toBeTruthy();
  });

  it("shows a model's routes with shares and breaker states at /models/:id", async () => {
    signInAs("member");
    mockFetch({
      "GET /models": pageOf([gpt]),
      "GET /models/7": gpt,
      "GET /breakers": { data: [{ target_id: "azure/gpt-4o-eu", state: "open", consecutive_failures: 5, opened_at: new Date().toISOString() }] },
    });
    renderAt("/models/7");
    const d = await screen.findByRole("dialog", { name: "Model gpt-4o" });
    const routes = await within(d).findByRole("table", { name: "Routes" });
    const azureRow = within(routes).getByText("gpt-4o-eu").closest("tr")!;
    expect(within(azureRow).getByText("25%")).toBeTruthy();
    await waitFor(() => expect(within(azureRow).getByText("open")).toBeTruthy());
    expect(within(azureRow).getByText(/5 failures/)).toBeTruthy();
    expect(within(d).queryByRole("button", { name: "Edit" })).toBeNull();
  });
});
