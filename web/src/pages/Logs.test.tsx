import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { h, type ComponentChildren } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route, Router, Switch } from "wouter-preact";
import { memoryLocation } from "wouter-preact/memory-location";
import type { LogSummary } from "../api/types";
import Logs, { logFilters, mergeNewer, prettyBody, TAIL_OVERLAP_MS, tailSince, validStatus } from "./Logs";

function at(path: string, children: ComponentChildren) {
  const loc = memoryLocation({ path, record: true });
  const searchHook = (loc as unknown as { searchHook: () => string }).searchHook;
  return { loc, tree: h(Router, { hook: loc.hook, searchHook, children }) };
}
const routes = (
  <Switch>
    <Route path="/logs" component={Logs} />
    <Route path="/logs/:id" component={Logs} />
  </Switch>
);

function log(id: string, startedAt: string, o: Partial<LogSummary> = {}): LogSummary {
  return {
    id, request_id: "req_" + id, started_at: startedAt, consumer_id: 4, key_id: "key_1", service_id: 3, team_id: 1,
    endpoint: "chat", prompt_slug: "", prompt_version: 0, model: "gpt-x", provider: "fake", upstream_model: "gpt-4o-fake",
    status: 200, error: "", stream: false, tokens_in: 71, tokens_out: 273, usage_estimated: false, cost: 0.0029075,
    bytes_in: 85, bytes_out: 237, client_addr: "127.0.0.1", auth_us: 13, routing_us: 15, total_us: 129809, ttft_us: 129663, ...o,
  };
}

describe("helpers", () => {
  it("validates a status code or class", () => {
    for (const ok of ["200", "429", "5xx", "2XX", "599"]) expect(validStatus(ok)).toBe(true);
    for (const bad of ["", "6xx", "99", "600", "abc", "20"]) expect(validStatus(bad)).toBe(false);
  });

  it("turns the URL's query into the API's filters", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    expect(logFilters({ status: "5XX", service_id: "3", request_id: "req_1", range: "1h" }, now)).toEqual({
      status: "5xx", service_id: "3", consumer_id: undefined, model: undefined, endpoint: undefined, request_id: "req_1",
      since: "2026-11-26T11:00:00.000Z", until: "2026-11-26T12:00:00.000Z",
    });
    const none = logFilters({ status: "nope" }, now);
    expect(none.status).toBeUndefined();
    expect(none.since).toBeUndefined(); // any time by default
    expect(none.until).toBeUndefined();
  });

  it("merges polled calls newest first and says which are new", () => {
    const shown = [log("b", "2026-11-26T12:00:02Z"), log("a", "2026-11-26T12:00:01Z")];
    const m = mergeNewer(shown, [log("c", "2026-11-26T12:00:03Z"), log("b", "2026-11-26T12:00:02Z"), log("late", "2026-11-26T12:00:01.500Z")]);
    expect(m.rows.map((r) => r.id)).toEqual(["c", "b", "late", "a"]);
    expect(m.added).toEqual(["c", "late"]);
    const same = mergeNewer(shown, [log("a", "2026-11-26T12:00:01Z")]);
    expect(same.rows).toBe(shown);
    expect(same.added).toEqual([]);
  });

  it("tails from a little before the newest call, never before the filter's start", () => {
    const rows = [log("a", "2026-11-26T12:00:00Z"), log("b", "2026-11-26T12:05:00Z")];
    expect(tailSince(rows)).toBe(new Date(Date.parse("2026-11-26T12:05:00Z") - TAIL_OVERLAP_MS).toISOString());
    expect(tailSince(rows, "2026-11-26T12:04:30Z")).toBe("2026-11-26T12:04:30.000Z");
    expect(tailSince([], "2026-11-26T10:00:00Z")).toBe("2026-11-26T10:00:00.000Z");
    expect(tailSince([])).toBeUndefined();
  });

  it("pretty-prints JSON bodies and streamed events", () => {
    expect(prettyBody('{"a":1,"b":[2]}')).toBe('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
    expect(prettyBody('data: {"x": 1}\n\ndata: [DONE]\n\n')).toBe('data: {"x":1}\ndata: [DONE]');
    expect(prettyBody("plain text")).toBe("plain text");
    expect(prettyBody("   ")).toBe("");
  });
});

interface Mock { calls: URL[]; logs: LogSummary[]; more: LogSummary[]; tail: LogSummary[] }
function mockApi(m: Mock) {
  vi.stubGlobal("fetch", vi.fn(async (input: string) => {
    const u = new URL(input, "http://localhost");
    m.calls.push(u);
    const path = u.pathname.replace("/admin/api/v1", "");
    let body: unknown = { data: [], page: 1, per_page: 200, total: 0 };
    if (path === "/services") body = { data: [{ id: 3, name: "Chat API" }], page: 1, per_page: 200, total: 1 };
    if (path === "/consumers") body = { data: [{ id: 4, name: "mobile-app" }], page: 1, per_page: 200, total: 1 };
    if (path === "/logs") {
      if (u.searchParams.get("cursor") === "c1") body = { data: m.more, next_cursor: "" };
      else if (u.searchParams.get("limit") === "200") body = { data: m.tail, next_cursor: "" };
      else body = { data: m.logs, next_cursor: m.more.length ? "c1" : "" };
    }
    if (path.startsWith("/logs/")) body = detail;
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  }));
}

const detail = {
  ...log("01a2", "2026-11-26T14:14:49Z", { status: 502, error: "the upstream provider could not be reached", stream: true, ttft_us: 274049, total_us: 711163 }),
  request_body: '{"model":"gpt-x","messages":[{"role":"user","content":"hello"}]}',
  response_body: null,
  attempts: [
    { provider: "dead/gpt-dead", upstream_model: "gpt-dead", status: 0, error: "dial tcp 127.0.0.1:1: connect: connection refused", retried: true, start_us: 95, dns_us: 0, connect_us: 0, tls_us: 0, ttfb_us: 0, transfer_us: 0, target_id: 1 },
    { provider: "fake/gpt-4o-fake", upstream_model: "gpt-4o-fake", status: 200, error: "", retried: false, start_us: 79123, dns_us: 0, connect_us: 0, tls_us: 0, ttfb_us: 194835, transfer_us: 437196, target_id: 2 },
  ],
  waterfall: {
    total_us: 711163,
    phases: [
      { name: "total", start_us: 0, duration_us: 711163 },
      { name: "auth", start_us: 0, duration_us: 14 },
      { name: "routing", start_us: 14, duration_us: 15 },
      { name: "attempt", attempt: 1, provider: "dead/gpt-dead", error: "connection refused", start_us: 95, duration_us: 0 },
      { name: "attempt", attempt: 2, provider: "fake/gpt-4o-fake", status: 200, start_us: 79123, duration_us: 632031 },
      { name: "ttfb", attempt: 2, start_us: 79123, duration_us: 194835 },
      { name: "transfer", attempt: 2, start_us: 273958, duration_us: 437196 },
      { name: "ttft", start_us: 0, duration_us: 274049 },
    ],
  },
};

describe("Call log", () => {
  let m: Mock;
  beforeEach(() => {
    m = { calls: [], logs: [], more: [], tail: [] };
    mockApi(m);
  });
  afterEach(() => { cleanup(); vi.unstubAllGlobals(); vi.useRealTimers(); });

  it("Refresh loads the newest calls again, also over any time", async () => {
    m.logs = [log("a", "2026-11-26T12:00:01Z")];
    const { tree } = at("/logs", routes);
    render(tree);
    const table = await screen.findByRole("table", { name: "Calls" });
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(2));
    m.logs = [log("b", "2026-11-26T12:00:02Z"), log("a", "2026-11-26T12:00:01Z")];
    await new Promise((r) => setTimeout(r, 2)); // the clock moves on
    fireEvent.click(screen.getByRole("button", { name: "Refresh" }));
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(3));
  });

  it("lists calls with the URL's filters, loads more with the cursor, and opens a call", async () => {
    m.logs = [
      log("n2", "2026-11-26T12:00:02Z", { stream: true, ttft_us: 88000, usage_estimated: true }),
      log("n1", "2026-11-26T12:00:01Z", { status: 502, error: "boom", service_id: 0, consumer_id: 9 }),
    ];
    m.more = [log("o1", "2026-11-26T11:00:00Z")];
    const { tree, loc } = at("/logs?status=5xx&service_id=3", routes);
    render(tree);
    const table = await screen.findByRole("table", { name: "Calls" });
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(3));
    const q = m.calls.find((u) => u.pathname.endsWith("/logs"))!.searchParams;
    expect(q.get("status")).toBe("5xx");
    expect(q.get("service_id")).toBe("3");
    expect(q.get("since")).toBeNull();

    const [, first, second] = within(table).getAllByRole("row");
    await waitFor(() => expect(first.textContent).toContain("mobile-app"));
    expect(first.textContent).toContain("Chat API");
    expect(first.textContent).toContain("gpt-x");
    expect(first.textContent).toContain("→ fake/gpt-4o-fake");
    expect(first.textContent).toContain("71 / 273");
    expect(first.textContent).toContain("88.0 ms"); // TTFT of a stream
    expect(within(first).getByText("stream")).toBeTruthy();
    expect(within(first).getByTitle(/Usage estimated/)).toBeTruthy();
    expect(second.textContent).toContain("502");
    expect(second.textContent).toContain("#9");
    expect(second.textContent).not.toContain("88.0 ms");

    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(4));
    expect(m.calls.some((u) => u.searchParams.get("cursor") === "c1" && u.searchParams.get("status") === "5xx")).toBe(true);
    expect(screen.getByText("End of the log")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();

    fireEvent.keyDown(first, { key: "Enter" });
    await waitFor(() => expect(loc.history!.at(-1)).toBe("/logs/n2?status=5xx&service_id=3"));
  });

  it("refuses a malformed status and applies a good one to the URL", async () => {
    const { tree, loc } = at("/logs", routes);
    render(tree);
    await screen.findByRole("table", { name: "Calls" });
    const status = screen.getByLabelText("Status");
    fireEvent.input(status, { target: { value: "7xx" } });
    fireEvent.keyDown(status, { key: "Enter" });
    expect((await screen.findByRole("alert")).textContent).toMatch(/status code/);
    expect(loc.history!.at(-1)).toBe("/logs");
    fireEvent.input(status, { target: { value: "429" } });
    fireEvent.keyDown(status, { key: "Enter" });
    await waitFor(() => expect(loc.history!.at(-1)).toBe("/logs?status=429"));
    await waitFor(() => expect(m.calls.filter((u) => u.pathname.endsWith("/logs")).at(-1)!.searchParams.get("status")).toBe("429"));
  });

  it("live tail polls every 2 s and prepends newer calls, highlighted", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    m.logs = [log("a", "2026-11-26T12:00:00Z")];
    const { tree } = at("/logs", routes);
    render(tree);
    const table = await screen.findByRole("table", { name: "Calls" });
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(2));
    m.tail = [log("b", "2026-11-26T12:00:05Z"), log("a", "2026-11-26T12:00:00Z")];
    const toggle = screen.getByRole("button", { name: "Live tail" });
    expect(toggle.getAttribute("aria-pressed")).toBe("false");
    fireEvent.click(toggle);
    expect(screen.getByRole("button", { name: "Stop live tail" }).getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(3));
    const rows = within(table).getAllByRole("row");
    expect(rows[1].className).toContain("new-row");
    expect(rows[2].className).not.toContain("new-row");
    const tailQ = m.calls.filter((u) => u.searchParams.get("limit") === "200").at(-1)!.searchParams;
    expect(tailQ.get("since")).toBe(new Date(Date.parse("2026-11-26T12:00:00Z") - TAIL_OVERLAP_MS).toISOString());
    m.tail = [log("c", "2026-11-26T12:00:09Z"), ...m.tail];
    const before = m.calls.length;
    await act(async () => { vi.advanceTimersByTime(2000); });
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(4));
    expect(m.calls.length).toBeGreaterThan(before);
    expect(within(table).getAllByRole("row")[1].textContent).toContain(new Date("2026-11-26T12:00:09Z").getSeconds().toString().padStart(2, "0"));
    fireEvent.click(screen.getByRole("button", { name: "Stop live tail" }));
    const after = m.calls.length;
    await act(async () => { vi.advanceTimersByTime(6000); });
    expect(m.calls.length).toBe(after);
  });
});

describe("Call detail", () => {
  beforeEach(() => mockApi({ calls: [], logs: [], more: [], tail: [] }));
  afterEach(() => { cleanup(); vi.unstubAllGlobals(); });

  it("shows the summary, error, waterfall bars, attempts and bodies", async () => {
    const { tree } = at("/logs/01a2?status=5xx", routes);
    render(tree);
    expect(await screen.findByRole("heading", { name: "Call req_01a2" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "← Call log" }).getAttribute("href")).toBe("/logs?status=5xx");
    expect(screen.getByRole("alert").textContent).toContain("the upstream provider could not be reached");

    const wf = screen.getByTestId("waterfall");
    const bars = Array.from(wf.querySelectorAll<HTMLElement>(".wf-bar"));
    expect(bars.length).toBe(8);
    for (const b of bars) expect(parseFloat(b.style.width)).toBeGreaterThan(0);
    expect(within(wf).getByRole("img", { name: "ttfb 194.8 ms" })).toBeTruthy();
    expect(within(wf).getByRole("img", { name: "attempt 1 0 µs, failed" })).toBeTruthy();
    expect(within(wf).getByRole("img", { name: "attempt 2 632.0 ms, status 200" })).toBeTruthy();

    const attempts = screen.getByRole("table", { name: "Upstream attempts" });
    const rows = within(attempts).getAllByRole("row");
    expect(rows).toHaveLength(3);
    expect(rows[1].textContent).toContain("retried");
    expect(rows[1].textContent).toContain("connection refused");
    expect(rows[2].textContent).toContain("194.8 ms");

    expect(screen.getByText(/"content": "hello"/)).toBeTruthy();
    expect(screen.getByText("(not logged)")).toBeTruthy();
    expect(within(wf).getByRole("img", { name: "ttft 274.0 ms" })).toBeTruthy(); // a stream: its first token is marked
  });
});
