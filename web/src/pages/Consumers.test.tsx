import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import { ConfirmHost } from "../components/dialog";
import { keyExpiry, keyState, validateConsumer, validateKey } from "../lib/access";
import { at, mockApi, page, signIn } from "../lib/access.testutil";
import Consumers from "./Consumers";

describe("key and consumer forms", () => {
  it("turns an expiry date into the end of that local day", () => {
    const iso = keyExpiry("2030-06-15")!;
    const d = new Date(iso);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2030, 5, 15, 23, 59]);
    expect(keyExpiry("")).toBeNull();
    expect(keyExpiry("2030-02-31")).toBe("invalid");
    expect(keyExpiry("soon")).toBe("invalid");
  });

  it("validates a new key", () => {
    const now = Date.parse("2030-01-01T12:00:00Z");
    expect(validateKey({ name: "prod", expires: "" }, now)).toEqual({});
    expect(validateKey({ name: " ", expires: "" }, now).name).toBeTruthy();
    expect(validateKey({ name: "prod", expires: "2029-12-30" }, now).expires_at).toMatch(/future/);
    expect(validateKey({ name: "prod", expires: "2030-01-05" }, now)).toEqual({});
  });

  it("tells active, expired and revoked keys apart", () => {
    const now = Date.parse("2030-01-01T12:00:00Z");
    expect(keyState({ revoked_at: null, expires_at: null }, now)).toBe("active");
    expect(keyState({ revoked_at: null, expires_at: "2029-01-01T00:00:00Z" }, now)).toBe("expired");
    expect(keyState({ revoked_at: "2029-06-01T00:00:00Z", expires_at: "2031-01-01T00:00:00Z" }, now)).toBe("revoked");
  });

  it("validates a consumer", () => {
    expect(validateConsumer({ name: "App", description: "", team_id: "1" })).toEqual({});
    expect(Object.keys(validateConsumer({ name: "", description: "", team_id: "" })).sort()).toEqual(["name", "team_id"]);
  });
});

describe("Consumer detail", () => {
  beforeEach(() => signIn("admin"));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  const key = { id: "key_1", consumer_id: 4, name: "ci", prefix: "abc123…", created_at: "2026-01-01T10:00:00Z", created_by: 1, expires_at: null, last_used_at: null, revoked_at: null, revoked_by: 0 };

  function setup() {
    const keys = [key];
    const calls = mockApi({
      "GET /consumers/4": { id: 4, name: "Mobile app", description: "iOS and Android", team_id: 1, created_at: "2026-01-01T10:00:00Z" },
      "GET /consumers/4/keys": () => page(keys),
      "GET /teams": page([{ id: 1, name: "Platform", created_at: "", updated_at: "" }]),
      "GET /users": page([]),
      "GET /subscriptions": page([]),
      "POST /consumers/4/keys": (c) => {
        const b = c.body as { name: string };
        keys.push({ ...key, id: "key_2", name: b.name, prefix: "zzz999…" });
        return { ...key, id: "key_2", name: b.name, prefix: "zzz999…", key: "sk-secret-value-shown-once" };
      },
      "DELETE /consumers/4/keys/key_1": () => ({ ...key, revoked_at: "2026-01-02T10:00:00Z" }),
    });
    const { tree } = at("/consumers/4", <><Route path="/consumers/:id" component={Consumers} /><ConfirmHost /></>);
    render(tree);
    return calls;
  }

  it("lists keys with 'never' for an unused key and shows a new key once", async () => {
    const calls = setup();
    const row = (await screen.findByText("ci")).closest("tr") as HTMLElement;
    expect(within(row).getByText("abc123…")).toBeTruthy();
    expect(within(row).getAllByText("never")).toHaveLength(2); // expires, last used
    expect(calls.find((c) => c.path === "/subscriptions")?.query.get("consumer_id")).toBe("4");

    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    const dialog = await screen.findByRole("dialog", { name: "Create key" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    expect(await within(dialog).findByText(/needs a name/)).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    fireEvent.input(within(dialog).getByLabelText("Key name"), { target: { value: "production" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    const shown = (await screen.findByLabelText("New key")) as HTMLInputElement;
    expect(shown.value).toBe("sk-secret-value-shown-once");
    expect(screen.getByText(/cannot be shown again/)).toBeTruthy();
    expect(await screen.findByRole("button", { name: "Copy key" })).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "production", expires_at: null });

    fireEvent.click(screen.getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByLabelText("New key")).toBeNull());
    expect(document.body.innerHTML).not.toContain("sk-secret-value-shown-once");
    expect(await screen.findByText("production")).toBeTruthy();
  });

  it("revokes a key after confirming", async () => {
    const calls = setup();
    const row = (await screen.findByText("ci")).closest("tr") as HTMLElement;
    fireEvent.click(within(row).getByRole("button", { name: "Revoke" }));
    fireEvent.click(await screen.findByRole("button", { name: "Revoke key" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === "/consumers/4/keys/key_1")).toBe(true));
  });
});

describe("Consumers list", () => {
  beforeEach(() => signIn("member", 2));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("offers a member only their teams and no team filter", async () => {
    const calls = mockApi({
      "GET /consumers": page([{ id: 4, name: "Mobile app", description: "", team_id: 7, created_at: "2026-01-01T10:00:00Z" }]),
      "GET /me": { id: 2, email: "m@example.com", role: "member", teams: [{ id: 7, name: "Apps" }] },
    });
    const { tree } = at("/consumers?page=2", <Route path="/consumers" component={Consumers} />);
    render(tree);
    const row = (await screen.findByText("Mobile app")).closest("tr") as HTMLElement;
    await waitFor(() => expect(within(row).getByText("Apps")).toBeTruthy());
    expect(calls.find((c) => c.path === "/consumers")?.query.get("page")).toBe("2");
    expect(calls.some((c) => c.path === "/teams")).toBe(false);
    expect(screen.queryByLabelText("Owned by")).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "New consumer" }));
    const team = (await screen.findByLabelText("Team")) as HTMLSelectElement;
    expect([...team.options].map((o) => o.textContent)).toEqual(["Pick a team…", "Apps"]);
    expect(team.value).toBe("7"); // the only team is picked
  });
});
