import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import { mockFetch, pageOf, routed, signInAs } from "../lib/prompt.testutil";
import Audit from "./Audit";

const entry = {
  id: 11, actor_id: 1, actor_email: "admin@example.com", action: "update", resource: "user", resource_id: "4", team_id: null,
  before: '{"id":4,"role":"member","name":"Ann"}', after: '{"id":4,"role":"admin","name":"Ann"}', created_at: "2030-01-01T00:00:00Z",
};

beforeEach(() => signInAs("admin"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

it("filters from the URL and expands a row to before and after", async () => {
  const calls = mockFetch({
    "GET /audit": pageOf([entry]),
    "GET /users": pageOf([{ id: 1, email: "admin@example.com", name: "", role: "admin", disabled: false, created_at: "", updated_at: "" }]),
  });
  const { tree, loc } = routed("/audit?resource=user&actor_id=1", <Route path="/audit" component={Audit} />);
  render(tree);
  const table = await screen.findByRole("table", { name: "Audit log" });
  await within(table).findByText("admin@example.com");
  const q = calls.find((c) => c.path === "/audit")!.query;
  expect([q.get("resource"), q.get("actor_id")]).toEqual(["user", "1"]);
  expect(within(table).getByText("role")).toBeTruthy(); // the changed keys

  fireEvent.click(within(table).getByRole("button", { name: "Show changes to user 4" }));
  expect(screen.getByLabelText("Before").textContent).toContain('"role": "member"');
  expect(screen.getByLabelText("After").textContent).toContain('"role": "admin"');

  // (testing-library turns fireEvent.change into "input" once preact/compat is loaded)
  const sel = screen.getByLabelText("Resource") as HTMLSelectElement;
  sel.value = "prompt";
  sel.dispatchEvent(new Event("change", { bubbles: true }));
  await waitFor(() => expect(loc.history.at(-1)).toBe("/audit?resource=prompt&actor_id=1"));
  await waitFor(() => expect(calls.filter((c) => c.path === "/audit").at(-1)!.query.get("resource")).toBe("prompt"));
});

it("lets a member filter by actor id without listing users", async () => {
  signInAs("member", 5);
  const calls = mockFetch({ "GET /audit": pageOf([]) });
  const { tree } = routed("/audit", <Route path="/audit" component={Audit} />);
  render(tree);
  expect(await screen.findByText("Nothing has been changed yet.")).toBeTruthy();
  expect(screen.getByLabelText("Actor ID")).toBeTruthy();
  expect(calls.some((c) => c.path === "/users")).toBe(false);
});
