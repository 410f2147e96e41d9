// Test helpers of the prompts, audit and users pages: a signed-in session,
// a fetch mock answering by method and path (JSON, errors, or an event
// stream sent in chunks), and a router at a URL.
import type { ComponentChildren } from "preact";
import { vi } from "vitest";
import { Router } from "wouter-preact";
import { memoryLocation } from "wouter-preact/memory-location";
import type { Session } from "../api/types";
import { session } from "./session";

export function signInAs(role: "admin" | "member" = "admin", id = 1): void {
  session.start({
    token: "test-token",
    expires_at: new Date(Date.now() + 3600_000).toISOString(),
    user: { id, email: `${role}@example.com`, name: role, role, disabled: false, created_at: "", updated_at: "" },
  } as Session);
}

export interface Call { method: string; path: string; query: URLSearchParams; body: unknown; signal?: AbortSignal | null }
type Handler = (call: Call) => unknown;

/** A streamed answer: chunks of text/event-stream, sent one by one. */
export class Stream {
  constructor(readonly chunks: string[], readonly gate?: Promise<void>) {}
}

export function mockFetch(routes: Record<string, unknown | Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://localhost");
    const path = url.pathname.replace(/^\/admin\/api\/v1/, "");
    const method = init?.method ?? "GET";
    const call: Call = { method, path, query: url.searchParams, body: init?.body ? JSON.parse(String(init.body)) : undefined, signal: init?.signal };
    calls.push(call);
    const r = routes[`${method} ${path}`];
    if (r === undefined) return new Response(JSON.stringify({ error: { message: `no mock for ${method} ${path}` } }), { status: 404 });
    const v = typeof r === "function" ? (r as Handler)(call) : r;
    if (v instanceof Stream) {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(ctl) {
          // as a real fetch does, aborting the request errors its body
          init?.signal?.addEventListener("abort", () => ctl.error(new DOMException("aborted", "AbortError")));
          for (const [i, c] of v.chunks.entries()) {
            if (i === v.chunks.length - 1 && v.gate) await v.gate;
            if (init?.signal?.aborted) {
              ctl.error(new DOMException("aborted", "AbortError"));
              return;
            }
            ctl.enqueue(enc.encode(c));
            await new Promise((res) => setTimeout(res, 1));
          }
          ctl.close();
        },
      });
      return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
    }
    const e = v as { status?: number; body?: unknown };
    if (e && typeof e === "object" && typeof e.status === "number" && e.status >= 400) {
      return new Response(JSON.stringify(e.body), { status: e.status, headers: { "Content-Type": "application/json" } });
    }
    if (v === null) return new Response(null, { status: 204 });
    return new Response(JSON.stringify(v), { status: 200, headers: { "Content-Type": "application/json" } });
  }));
  return calls;
}

export function pageOf<T>(data: T[], total = data.length) {
  return { data, page: 1, per_page: 50, total };
}

/** routed renders children in a router whose location is path (with a query). */
export function routed(path: string, children: ComponentChildren) {
  const loc = memoryLocation({ path, record: true });
  return { loc, tree: <Router hook={loc.hook}>{children}</Router> };
}
