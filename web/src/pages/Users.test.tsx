import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import { ConfirmHost } from "../components/dialog";
import { mockFetch, pageOf, routed, signInAs } from "../lib/prompt.testutil";
import Users from "./Users";

const ann = { id: 4, email: "ann@example.com", name: "Ann", role: "member", disabled: false, created_at: "2030-01-01T00:00:00Z", updated_at: "" };

function show(path = "/users") {
  const { tree, loc } = routed(path, <><Route path="/users" component={Users} /><ConfirmHost /></>);
  render(tree);
  return loc;
}

beforeEach(() => signInAs("admin"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

it("validates a new user before sending and shows the API's field error", async () => {
  const calls = mockFetch({
    "GET /users": pageOf([ann]),
    "POST /users": { status: 409, body: { error: { message: "a user with this email exists", param: "email" } } },
  });
  show("/users?role=member");
  await screen.findByText("ann@example.com");
  expect(calls[0].query.get("role")).toBe("member");
  fireEvent.click(screen.getByRole("button", { name: "New user" }));
  const dialog = await screen.findByRole("dialog", { name: "New user" });
  fireEvent.input(within(dialog).getByLabelText("Email"), { target: { value: "not-an-email" } });
  fireEvent.input(within(dialog).getByLabelText("Password"), { target: { value: "short" } });
  fireEvent.click(within(dialog).getByRole("button", { name: "Create user" }));
  expect(await within(dialog).findByText(/email address such as/)).toBeTruthy();
  expect(within(dialog).getByText(/at least 8/)).toBeTruthy();
  expect(calls.some((c) => c.method === "POST")).toBe(false);

  fireEvent.input(within(dialog).getByLabelText("Email"), { target: { value: "ann@example.com" } });
  fireEvent.input(within(dialog).getByLabelText("Password"), { target: { value: "long-enough-pw" } });
  fireEvent.click(within(dialog).getByRole("button", { name: "Create user" }));
  expect(await within(dialog).findByText("a user with this email exists")).toBeTruthy();
  expect(calls.find((c) => c.method === "POST")!.body).toEqual({ email: "ann@example.com", name: "", role: "member", password: "long-enough-pw" });
});

it("asks before disabling a user", async () => {
  const calls = mockFetch({ "GET /users": pageOf([ann]), "PATCH /users/4": { ...ann, disabled: true } });
  show();
  fireEvent.click(await screen.findByRole("button", { name: "Disable ann@example.com" }));
  const dialog = await screen.findByRole("dialog", { name: "Disable user" });
  fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
  await waitFor(() => expect(screen.queryByRole("dialog", { name: "Disable user" })).toBeNull());
  expect(calls.some((c) => c.method === "PATCH")).toBe(false);

  fireEvent.click(screen.getByRole("button", { name: "Disable ann@example.com" }));
  fireEvent.click(within(await screen.findByRole("dialog", { name: "Disable user" })).getByRole("button", { name: "Disable user" }));
  await waitFor(() => expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ disabled: true }));
});

it("resets a password after checking both entries match", async () => {
  const calls = mockFetch({ "GET /users": pageOf([ann]), "POST /users/4/password": null });
  show();
  fireEvent.click(await screen.findByRole("button", { name: "Reset password of ann@example.com" }));
  const dialog = await screen.findByRole("dialog", { name: "Reset password of ann@example.com" });
  fireEvent.input(within(dialog).getByLabelText("New password"), { target: { value: "new-password-1" } });
  fireEvent.input(within(dialog).getByLabelText("Repeat the password"), { target: { value: "new-password-2" } });
  fireEvent.click(within(dialog).getByRole("button", { name: "Reset password" }));
  expect(await within(dialog).findByText("The two passwords differ.")).toBeTruthy();
  fireEvent.input(within(dialog).getByLabelText("Repeat the password"), { target: { value: "new-password-1" } });
  fireEvent.click(within(dialog).getByRole("button", { name: "Reset password" }));
  await waitFor(() => expect(calls.find((c) => c.method === "POST")?.body).toEqual({ password: "new-password-1" }));
});

it("tells a member that only admins manage users", async () => {
  signInAs("member", 5);
  const calls = mockFetch({});
  show();
  expect(await screen.findByText("Only admins manage users.")).toBeTruthy();
  expect(screen.queryByRole("button", { name: "New user" })).toBeNull();
  expect(calls.length).toBe(0);
});
