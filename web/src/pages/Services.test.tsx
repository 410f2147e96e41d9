import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import type { Service } from "../api/types";
import { limitsSummary, loggingSummary, serviceBody, serviceForm, slugify, splitFields, validateService } from "../lib/access";
import { at, mockApi, page, signIn } from "../lib/access.testutil";
import Services from "./Services";

const svc: Service = {
  id: 3, slug: "support-bot", name: "Support bot", description: "Answers tickets", team_id: 1, approval: "manual",
  limits: { rpm: 60, tpm: 10000, monthly_tokens: 0 }, log_bodies: true, log_retention_days: 30, redact_fields: ["user"],
  models: [{ id: 1, name: "gpt-mini", input_price: 0, output_price: 0, targets: [], created_at: "", updated_at: "" }],
  created_at: "2026-01-01T10:00:00Z", updated_at: "2026-01-01T10:00:00Z",
};

describe("service form", () => {
  it("suggests slugs from names", () => {
    expect(slugify("Support Bot v2!")).toBe("support-bot-v2");
    expect(slugify("  Café -- Ünïcode ")).toBe("cafe-unicode");
    expect(slugify("x".repeat(80))).toHaveLength(63);
  });

  it("validates like the API", () => {
    const ok = { ...serviceForm(), name: "Chat", slug: "chat", team_id: "1" };
    expect(validateService(ok)).toEqual({});
    const e = validateService({ ...serviceForm(), slug: "Bad Slug", rpm: "-1", tpm: "1.5", log_retention_days: "4000", redact_fields: "messages.#.content\nnot a path" });
    expect(Object.keys(e).sort()).toEqual(["limits.rpm", "limits.tpm", "log_retention_days", "name", "redact_fields", "slug", "team_id"]);
    expect(e.redact_fields).toContain("not a path");
    expect(validateService({ ...ok, redact_fields: Array.from({ length: 33 }, (_, i) => `f${i}`).join("\n") }).redact_fields).toMatch(/32/);
  });

  it("builds the API body, empty limits meaning unlimited", () => {
    const f = { ...serviceForm(), name: " Chat ", slug: "chat", team_id: "2", approval: "auto" as const, model_ids: [4, 5], rpm: "100", redact_fields: "user, messages.#.content\n\n", log_bodies: true };
    expect(serviceBody(f)).toEqual({
      name: "Chat", slug: "chat", description: "", team_id: 2, approval: "auto", model_ids: [4, 5],
      limits: { rpm: 100, tpm: 0, monthly_tokens: 0 }, log_bodies: true, redact_fields: ["user", "messages.#.content"], log_retention_days: 0,
    });
    expect(splitFields("a\n b ,c")).toEqual(["a", "b", "c"]);
  });

  it("round-trips a service through the form", () => {
    const f = serviceForm(svc);
    expect(f).toMatchObject({ slug: "support-bot", team_id: "1", model_ids: [1], rpm: "60", monthly_tokens: "", redact_fields: "user", log_retention_days: "30" });
    expect(serviceBody(f).limits).toEqual(svc.limits);
  });

  it("summarises limits and logging", () => {
    expect(limitsSummary(svc.limits)).toBe("60 rpm · 10,000 tpm");
    expect(limitsSummary({ rpm: 0, tpm: 0, monthly_tokens: 0 })).toBe("Unlimited");
    expect(loggingSummary(svc)).toBe("Bodies, 1 redacted · 30 d");
    expect(loggingSummary({ log_bodies: false, log_retention_days: 0, redact_fields: [] })).toBe("Metadata only · kept forever");
  });
});

describe("Services page", () => {
  beforeEach(() => signIn("admin"));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("lists services and shows the API's field error beside the field", async () => {
    const calls = mockApi({
      "GET /services": page([svc]),
      "GET /teams": page([{ id: 1, name: "Platform", created_at: "", updated_at: "" }]),
      "GET /models": page(svc.models),
      "POST /services": { status: 409, body: { error: { message: "slug support-bot is taken", param: "slug" } } },
    });
    const { tree } = at("/services?q=sup", <Route path="/services" component={Services} />);
    render(tree);
    const row = (await screen.findByText("Support bot")).closest("tr") as HTMLElement;
    expect(within(row).getByText("manual")).toBeTruthy();
    expect(within(row).getByText("gpt-mini")).toBeTruthy();
    await waitFor(() => expect(within(row).getByText("Platform")).toBeTruthy());
    expect(calls.find((c) => c.path === "/services")?.query.get("q")).toBe("sup");

    fireEvent.click(screen.getByRole("button", { name: "New service" }));
    fireEvent.click(await screen.findByRole("button", { name: "Create service" }));
    expect(await screen.findByText("A service needs a name.")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    fireEvent.input(screen.getByLabelText("Name"), { target: { value: "Support Bot" } });
    expect((screen.getByLabelText("Slug") as HTMLInputElement).value).toBe("support-bot");
    fireEvent.change(screen.getByLabelText("Team"), { target: { value: "1" } });
    fireEvent.click(await screen.findByLabelText("gpt-mini"));
    fireEvent.click(screen.getByRole("button", { name: "Create service" }));
    const err = await screen.findByText("slug support-bot is taken");
    expect(err.closest(".field")?.querySelector("input")?.getAttribute("name")).toBe("slug");
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({ name: "Support Bot", slug: "support-bot", team_id: 1, approval: "manual", model_ids: [1] });
  });

  it("shows a service's settings, prompts and subscriptions", async () => {
    const calls = mockApi({
      "GET /services/3": svc,
      "GET /teams": page([{ id: 1, name: "Platform", created_at: "", updated_at: "" }]),
      "GET /users": page([]),
      "GET /prompts": page([{ id: 8, slug: "triage", name: "Triage", service_id: 3, published_version: 2 }]),
      "GET /subscriptions": page([{ id: 1, consumer_id: 4, consumer_name: "Mobile app", service_id: 3, service_name: "Support bot", service_team_id: 1, status: "pending", created_at: "2026-01-01T10:00:00Z" }]),
    });
    const { tree } = at("/services/3", <Route path="/services/:id" component={Services} />);
    render(tree);
    expect(await screen.findByRole("heading", { name: "Support bot" })).toBeTruthy();
    expect((await screen.findByRole("link", { name: "Triage" })).getAttribute("href")).toBe("/prompts/8");
    expect((await screen.findByRole("link", { name: "Mobile app" })).getAttribute("href")).toBe("/consumers/4");
    expect(screen.getByText("every subscription waits in the approval queue")).toBeTruthy();
    expect(calls.find((c) => c.path === "/prompts")?.query.get("service_id")).toBe("3");
    expect(calls.find((c) => c.path === "/subscriptions")?.query.get("service_id")).toBe("3");
  });
});
