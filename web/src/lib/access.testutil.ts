// Test helpers of the access pages: a signed-in session, a fetch mock that
// answers by method and path and records every call, and a router at a URL.
import { h, type ComponentChildren } from "preact";
import { vi } from "vitest";
import { Router } from "wouter-preact";
import { memoryLocation } from "wouter-preact/memory-location";
import type { Session } from "../api/types";
import { session } from "./session";

export function signIn(role: "admin" | "member" = "admin", id = 1): void {
  session.start({
    token: "test-token",
    expires_at: new Date(Date.now() + 3600_000).toISOString(),
    user: { id, email: `${role}@example.com`, name: role, role, disabled: false, created_at: "", updated_at: "" },
  } as Session);
}

export interface Call { method: string; path: string; query: URLSearchParams; body: unknown }
type Handler = (call: Call) => unknown;

/**
 * mockApi stubs fetch: routes maps "METHOD /path" (path without
 * /admin/api/v1 and query) to a value or a function of the call; a value
 * of the form { status, body } with status ≥ 400 answers an error.
 */
export function mockApi(routes: Record<string, Handler | Record<string, unknown> | unknown[] | null>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://localhost");
    const path = url.pathname.replace(/^\/admin\/api\/v1/, "");
    const method = init?.method ?? "GET";
    const call: Call = { method, path, query: url.searchParams, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const r = routes[`${method} ${path}`];
    if (r === undefined) return new Response(JSON.stringify({ error: { message: `no mock for ${method} ${path}` } }), { status: 404 });
    const v = typeof r === "function" ? (r as Handler)(call) : r;
    const e = v as { status?: number; body?: unknown };
    if (e && typeof e === "object" && typeof e.status === "number" && e.status >= 400) {
      return new Response(JSON.stringify(e.body), { status: e.status, headers: { "Content-Type": "application/json" } });
    }
    if (v === null) return new Response(null, { status: 204 });
    return new Response(JSON.stringify(v), { status: 200, headers: { "Content-Type": "application/json" } });
  }));
  return calls;
}

export function page<T>(data: T[], total = data.length) {
  return { data, page: 1, per_page: 50, total };
}

/** at renders children in a router whose location is path (with a query). */
export function at(path: string, children: ComponentChildren) {
  const loc = memoryLocation({ path, record: true });
  // memory-location.d.ts does not declare the searchHook the code returns.
  const searchHook = (loc as unknown as { searchHook: () => string }).searchHook;
  return { loc, tree: h(Router, { hook: loc.hook, searchHook, children }) };
}
