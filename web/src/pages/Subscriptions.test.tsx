import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import type { Subscription } from "../api/types";
import { canDecide, decidedBy, mergeRows, statusFilter, validateReason } from "../lib/access";
import { at, mockApi, page, signIn } from "../lib/access.testutil";
import Subscriptions, { actorLabel } from "./Subscriptions";

function sub(over: Partial<Subscription>): Subscription {
  return {
    id: 1, consumer_id: 10, consumer_name: "Mobile app", consumer_team_id: 1,
    service_id: 20, service_name: "Support bot", service_slug: "support-bot", service_team_id: 1,
    status: "pending", reason: "", decided_by: null as unknown as number, decided_at: null as unknown as string,
    created_at: "2026-01-01T10:00:00Z", updated_at: "2026-01-01T10:00:00Z", events: [],
    ...over,
  };
}

describe("subscription helpers", () => {
  it("defaults the status filter to pending and sends none for all", () => {
    expect(statusFilter(undefined)).toEqual({ tab: "pending", query: "pending" });
    expect(statusFilter("bogus")).toEqual({ tab: "pending", query: "pending" });
    expect(statusFilter("revoked")).toEqual({ tab: "revoked", query: "revoked" });
    expect(statusFilter("all")).toEqual({ tab: "all", query: undefined });
  });

  it("names who decided", () => {
    const users = new Map([[7, "ops@example.com"]]);
    expect(decidedBy(sub({ status: "pending" }), users)).toBe("—");
    expect(decidedBy(sub({ status: "approved", decided_at: "2026-01-01T10:00:00Z" }), users)).toBe("automatic");
    expect(decidedBy(sub({ status: "rejected", decided_at: "2026-01-01T10:00:00Z", decided_by: 7 }), users)).toBe("ops@example.com");
    expect(decidedBy(sub({ status: "rejected", decided_at: "2026-01-01T10:00:00Z", decided_by: 7 }), users, 7)).toBe("you");
    expect(decidedBy(sub({ status: "revoked", decided_at: "2026-01-01T10:00:00Z", decided_by: 9 }), users)).toBe("user #9");
  });

  it("lets admins and the service's team decide", () => {
    expect(canDecide(sub({ service_team_id: 3 }), true, [])).toBe(true);
    expect(canDecide(sub({ service_team_id: 3 }), false, [1, 3])).toBe(true);
    expect(canDecide(sub({ service_team_id: 3 }), false, [1])).toBe(false);
  });

  it("requires a reason", () => {
    expect(validateReason("")).toMatch(/required/);
    expect(validateReason("   ")).toMatch(/required/);
    expect(validateReason("x".repeat(2001))).toMatch(/2000/);
    expect(validateReason("over quota")).toBeUndefined();
  });

  it("merges decided rows in place", () => {
    const rows = [sub({ id: 1 }), sub({ id: 2 })];
    const merged = mergeRows(rows, new Map([[2, sub({ id: 2, status: "approved" })]]));
    expect(merged?.map((r) => r.status)).toEqual(["pending", "approved"]);
  });

  it("labels history actors", () => {
    expect(actorLabel("consumer:3")).toBe("consumer #3");
    expect(actorLabel("consumer:10", sub({}))).toBe("Mobile app (consumer)");
    expect(actorLabel("auto-approval")).toBe("automatic approval");
    expect(actorLabel("ops@example.com")).toBe("ops@example.com");
  });
});

describe("Subscriptions page", () => {
  beforeEach(() => signIn("admin"));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  const pending = [sub({ id: 5, consumer_name: "Batch jobs" }), sub({ id: 4, consumer_name: "Web frontend" })];

  function setup() {
    const calls = mockApi({
      "GET /subscriptions": (c) => (c.query.get("per_page") === "1" ? page([], 2) : page(c.query.get("status") === "pending" ? pending : [])),
      "GET /services": page([]),
      "GET /consumers": page([]),
      "GET /teams": page([{ id: 1, name: "Platform", created_at: "", updated_at: "" }]),
      "GET /users": page([]),
      "POST /subscriptions/5/approve": () => sub({ id: 5, consumer_name: "Batch jobs", status: "approved", decided_by: 1, decided_at: "2026-01-01T11:00:00Z" }),
      "POST /subscriptions/4/reject": (c) => sub({ id: 4, consumer_name: "Web frontend", status: "rejected", reason: (c.body as { reason: string }).reason, decided_by: 1, decided_at: "2026-01-01T11:00:00Z" }),
    });
    const { tree } = at("/subscriptions", <Route path="/subscriptions" component={Subscriptions} />);
    render(tree);
    return calls;
  }

  it("lists pending requests first with a count, and approves in place", async () => {
    const calls = setup();
    const row = (await screen.findByText("Batch jobs")).closest("tr")!;
    expect(calls.find((c) => c.path === "/subscriptions" && c.query.get("per_page") !== "1")?.query.get("status")).toBe("pending");
    expect(await screen.findByText("2 pending")).toBeTruthy();
    expect(screen.getByRole("tab", { name: "Pending (2)" }).getAttribute("aria-selected")).toBe("true");

    fireEvent.click(within(row as HTMLElement).getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(within(row as HTMLElement).getByText("approved")).toBeTruthy());
    expect(within(row as HTMLElement).getByText(/you/)).toBeTruthy();
    expect(within(row as HTMLElement).queryByRole("button", { name: "Approve" })).toBeNull();
    expect(calls.some((c) => c.method === "POST" && c.path === "/subscriptions/5/approve")).toBe(true);
  });

  it("does not send a rejection without a reason", async () => {
    const calls = setup();
    const row = (await screen.findByText("Web frontend")).closest("tr") as HTMLElement;
    fireEvent.click(within(row).getByRole("button", { name: "Reject" }));
    fireEvent.click(await screen.findByRole("button", { name: "Reject subscription" }));
    expect(await screen.findByText(/A reason is required/)).toBeTruthy();
    expect(calls.some((c) => c.path.endsWith("/reject"))).toBe(false);

    fireEvent.input(screen.getByLabelText("Reason"), { target: { value: "no budget" } });
    fireEvent.click(screen.getByRole("button", { name: "Reject subscription" }));
    await waitFor(() => expect(within(row).getByText("rejected")).toBeTruthy());
    expect(calls.find((c) => c.path === "/subscriptions/4/reject")?.body).toEqual({ reason: "no budget" });
    expect(within(row).getByText("no budget")).toBeTruthy();
  });

  it("hides decisions from a member outside the service's team", async () => {
    signIn("member", 2);
    mockApi({
      "GET /subscriptions": (c) => (c.query.get("per_page") === "1" ? page([], 1) : page([sub({ id: 9, service_team_id: 5, consumer_name: "Ours" })])),
      "GET /services": page([]),
      "GET /consumers": page([]),
      "GET /me": { id: 2, email: "m@example.com", role: "member", teams: [{ id: 1, name: "Platform" }] },
    });
    const { tree } = at("/subscriptions", <Route path="/subscriptions" component={Subscriptions} />);
    render(tree);
    const row = (await screen.findByText("Ours")).closest("tr") as HTMLElement;
    expect(within(row).queryByRole("button", { name: "Approve" })).toBeNull();
  });
});
