// Test helpers of the providers and models pages: a signed-in session, a
// fetch mock answering by "METHOD /path" that records every call, and a
// router at a URL.
import { h, type ComponentChildren } from "preact";
import { vi } from "vitest";
import { Router } from "wouter-preact";
import { memoryLocation } from "wouter-preact/memory-location";
import type { Session } from "../api/types";
import { session } from "./session";

export function signInAs(role: "admin" | "member"): void {
  session.start({
    token: "t",
    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    user: { id: 1, email: `${role}@example.com`, name: role, role, disabled: false, created_at: "", updated_at: "" },
  } as Session);
}

export interface Call { method: string; path: string; query: URLSearchParams; body: any }
type Reply = unknown | ((c: Call) => unknown);

/** An error answer: mockFetch sends it with its status. */
export function apiError(status: number, message: string, param?: string) {
  return { __status: status, body: { error: { message, param: param ?? null, type: "invalid_request_error", code: null } } };
}

export function mockFetch(routes: Record<string, Reply>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://localhost");
    const path = url.pathname.replace(/^\/admin\/api\/v1/, "");
    const method = init?.method ?? "GET";
    const call: Call = { method, path, query: url.searchParams, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const r = routes[`${method} ${path}`];
    if (r === undefined) return new Response(JSON.stringify({ error: { message: `no mock for ${method} ${path}` } }), { status: 404 });
    const v = typeof r === "function" ? (r as (c: Call) => unknown)(call) : r;
    const e = v as { __status?: number; body?: unknown };
    if (e && typeof e === "object" && typeof e.__status === "number") {
      return new Response(JSON.stringify(e.body), { status: e.__status, headers: { "Content-Type": "application/json" } });
    }
    if (v === null) return new Response(null, { status: 204 });
    return new Response(JSON.stringify(v), { status: 200, headers: { "Content-Type": "application/json" } });
  }));
  return calls;
}

export function pageOf<T>(data: T[], total = data.length) {
  return { data, page: 1, per_page: 20, total };
}

export function at(path: string, children: ComponentChildren) {
  const loc = memoryLocation({ path, record: true });
  // The memory hook carries its searchHook, which the Router picks up.
  return { loc, tree: h(Router, { hook: loc.hook, children }) };
}

/**
 * choose picks a select's option and sends a real change event (under
 * preact/compat, testing-library's fireEvent.change sends "input").
 */
export function choose(select: HTMLElement, value: string): void {
  (select as HTMLSelectElement).value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
}
