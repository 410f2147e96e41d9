import { act, cleanup, render, screen, waitFor, within } from "@testing-library/preact";
import { h, type ComponentChildren } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Router } from "wouter-preact";
import { memoryLocation } from "wouter-preact/memory-location";
import Dashboard, { groupName, logsHref } from "./Dashboard";

// uPlot draws on a canvas happy-dom does not have: record what it is given.
const plots = vi.hoisted(() => [] as { opts: { series: { label?: string }[] }; data: unknown[][]; el: HTMLElement }[]);
vi.mock("uplot", () => ({
  default: class {
    width = 600;
    ctx: { canvas: HTMLCanvasElement };
    over = document.createElement("div");
    constructor(opts: { series: { label?: string }[] }, data: unknown[][], el: HTMLElement) {
      const canvas = document.createElement("canvas");
      el.appendChild(canvas);
      this.ctx = { canvas };
      plots.push({ opts, data, el });
    }
    setData(data: unknown[][]) { plots.find((p) => p.el.contains(this.ctx.canvas))!.data = data; }
    setSize() {}
    destroy() { this.ctx.canvas.remove(); }
  },
}));

/**
 * pick chooses an option. (fireEvent.change does not reach Preact's onChange
 * on a <select> in happy-dom once preact/compat is loaded; a plain change
 * event does.)
 */
function pick(el: HTMLElement, value: string) {
  act(() => {
    (el as HTMLSelectElement).value = value;
    el.dispatchEvent(new Event("change", { bubbles: true }));
  });
}

function at(path: string, children: ComponentChildren) {
  const loc = memoryLocation({ path, record: true });
  const searchHook = (loc as unknown as { searchHook: () => string }).searchHook;
  return { loc, tree: h(Router, { hook: loc.hook, searchHook, children }) };
}

type Route = (u: URL) => unknown;
function mockFetch(routes: Record<string, Route>) {
  const calls: URL[] = [];
  vi.stubGlobal("fetch", vi.fn(async (input: string) => {
    const u = new URL(input, "http://localhost");
    calls.push(u);
    const r = routes[u.pathname.replace("/admin/api/v1", "")];
    if (!r) return new Response(JSON.stringify({ error: { message: "no mock" } }), { status: 404 });
    return new Response(JSON.stringify(r(u)), { status: 200, headers: { "Content-Type": "application/json" } });
  }));
  return calls;
}

const stats = (o: Partial<Record<string, number>> = {}) => ({
  requests: 0, errors: 0, errors_4xx: 0, errors_5xx: 0, tokens_in: 0, tokens_out: 0, cost: 0,
  latency_avg_ms: 0, latency_p50_ms: 0, latency_p95_ms: 0, latency_p99_ms: 0, ttft_p50_ms: 0, ttft_p95_ms: 0, ...o,
});

/** An analytics answer echoing the asked range, with calls in the last two hours when full. */
function analytics(full: boolean) {
  return (u: URL) => {
    const since = u.searchParams.get("since")!;
    const until = u.searchParams.get("until")!;
    const last = Math.floor(Date.parse(until) / 3600_000) * 3600_000;
    const data = full ? [
      { group: "", bucket_start: new Date(last - 3600_000).toISOString(), ...stats({ requests: 40, errors: 2, tokens_in: 1000, tokens_out: 2000, cost: 0.01, latency_p50_ms: 200, latency_p95_ms: 800 }) },
      { group: "", bucket_start: new Date(last).toISOString(), ...stats({ requests: 25, errors: 4, tokens_in: 2607, tokens_out: 2991, cost: 0.02, latency_p50_ms: 220, latency_p95_ms: 900 }) },
    ] : [];
    const total = full ? stats({ requests: 65, errors: 6, errors_4xx: 5, errors_5xx: 1, tokens_in: 3607, tokens_out: 4991, cost: 0.03, latency_p50_ms: 211.5, latency_p95_ms: 796.9, latency_p99_ms: 959.4 }) : stats();
    return { since, until, bucket: u.searchParams.get("bucket"), group_by: "", data, groups: [], names: {}, total };
  };
}

function top(full: boolean) {
  return (u: URL) => {
    if (!full) return { by: u.searchParams.get("by"), data: [], names: {} };
    const by = u.searchParams.get("by");
    const row = (group: string, requests: number, errors: number) => ({ group, requests, errors, tokens_in: 0, tokens_out: 0, cost: 0.01, latency_avg_ms: 0 });
    if (by === "service") return { by, data: [row("3", 50, 1), row("0", 15, 5)], names: { "3": "Dash Chat" } };
    if (by === "consumer") return { by, data: [row("4", 31, 5)], names: { "4": "mobile-app" } };
    return { by, data: [row("dash-mini", 33, 0), row("", 11, 1)], names: {} };
  };
}

beforeEach(() => { plots.length = 0; });
afterEach(() => { cleanup(); vi.unstubAllGlobals(); vi.useRealTimers(); });

describe("Dashboard", () => {
  it("shows the range's totals, four populated charts and the top lists", async () => {
    const calls = mockFetch({ "/analytics": analytics(true), "/analytics/top": top(true) });
    const { tree } = at("/", <Dashboard />);
    render(tree);

    const totals = await screen.findByRole("region", { name: "Totals" });
    expect(within(totals).getByRole("group", { name: "Requests" }).textContent).toContain("65");
    expect(within(totals).getByRole("group", { name: "Error rate" }).textContent).toContain("9.23%");
    expect(within(totals).getByRole("group", { name: "Tokens in / out" }).textContent).toContain("3,607 / 4,991");
    expect(within(totals).getByRole("group", { name: "Cost" }).textContent).toContain("$0.03");
    expect(within(totals).getByRole("group", { name: "Latency p50 / p95" }).textContent).toContain("211.5 ms / 796.9 ms");

    // The default range is the last 24 hours, by hour.
    const q = calls.find((u) => u.pathname.endsWith("/analytics"))!.searchParams;
    expect(q.get("bucket")).toBe("hour");
    expect(Date.parse(q.get("until")!) - Date.parse(q.get("since")!)).toBe(24 * 3600_000);

    await waitFor(() => expect(plots).toHaveLength(4));
    expect(plots.map((p) => p.opts.series.slice(1).map((s) => s.label))).toEqual([
      ["Requests", "Errors"], ["p50", "p95"], ["Input tokens", "Output tokens"], ["Cost (USD)"],
    ]);
    // The requests series is zero-filled over the 24-25 hourly buckets, with the calls at the end.
    const req = plots[0].data[1] as number[];
    expect(req.length).toBeGreaterThanOrEqual(24);
    expect(req.slice(-2)).toEqual([40, 25]);
    expect(req.slice(0, -2).every((v) => v === 0)).toBe(true);
    // Latencies leave gaps where there were no calls.
    expect((plots[1].data[2] as (number | null)[]).slice(-3)).toEqual([null, 800, 900]);
    expect(document.querySelectorAll("[data-testid=chart] canvas")).toHaveLength(4);
    expect(document.querySelector("[data-testid=chart] canvas")!.getAttribute("aria-label")).toBe("Requests and errors over time. Requests total 65; Errors total 6.");

    const services = await screen.findByRole("table", { name: "Top services" });
    expect(within(services).getByRole("link", { name: "Dash Chat" }).getAttribute("href")).toBe("/logs?service_id=3");
    expect(within(services).getByText("No service")).toBeTruthy();
    const models = await screen.findByRole("table", { name: "Top models" });
    expect(within(models).getByRole("link", { name: "dash-mini" }).getAttribute("href")).toBe("/logs?model=dash-mini");
    expect(within(models).getByText("No model")).toBeTruthy();
    expect(calls.filter((u) => u.pathname.endsWith("/top")).map((u) => u.searchParams.get("by")).sort()).toEqual(["consumer", "model", "service"]);
  });

  it("says 'No calls in this range' instead of drawing empty charts", async () => {
    mockFetch({ "/analytics": analytics(false), "/analytics/top": top(false) });
    const { tree } = at("/", <Dashboard />);
    render(tree);
    await waitFor(() => expect(screen.getAllByText("No calls in this range").length).toBe(4 + 3));
    expect(plots).toHaveLength(0);
    expect(within(screen.getByRole("region", { name: "Totals" })).getByRole("group", { name: "Requests" }).textContent).toContain("0");
  });

  it("keeps the chosen range in the URL and asks for it", async () => {
    const calls = mockFetch({ "/analytics": analytics(true), "/analytics/top": top(true) });
    const { tree, loc } = at("/", <Dashboard />);
    render(tree);
    await screen.findByRole("region", { name: "Totals" });
    pick(screen.getByLabelText("Time range"), "7d");
    await waitFor(() => expect(loc.history!.at(-1)).toBe("/?range=7d"));
    await waitFor(() => {
      const q = calls.filter((u) => u.pathname.endsWith("/analytics")).at(-1)!.searchParams;
      expect(Date.parse(q.get("until")!) - Date.parse(q.get("since")!)).toBe(7 * 24 * 3600_000);
    });
  });

  it("reads a range from the URL and refreshes every 30 seconds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const calls = mockFetch({ "/analytics": analytics(true), "/analytics/top": top(true) });
    const { tree } = at("/?range=1h", <Dashboard />);
    render(tree);
    await screen.findByRole("region", { name: "Totals" });
    const first = calls.filter((u) => u.pathname.endsWith("/analytics"));
    expect(first).toHaveLength(1);
    expect(first[0].searchParams.get("bucket")).toBe("minute");
    vi.advanceTimersByTime(30_000);
    await waitFor(() => expect(calls.filter((u) => u.pathname.endsWith("/analytics")).length).toBe(2));
  });
});

describe("names", () => {
  it("turns ids into names and empty groups into words", () => {
    expect(groupName("service", "3", { "3": "Chat" })).toBe("Chat");
    expect(groupName("consumer", "9", {})).toBe("#9");
    expect(groupName("consumer", "0", {})).toBe("No consumer");
    expect(groupName("model", "gpt", {})).toBe("gpt");
    expect(logsHref("service", "0")).toBeUndefined();
    expect(logsHref("consumer", "4")).toBe("/logs?consumer_id=4");
    expect(logsHref("provider", "openai")).toBeUndefined();
  });
});

describe("axes", () => {
  it("formats cost and latency ticks", async () => {
    const { costAxis, msAxis } = await import("./Dashboard");
    expect(costAxis(0)).toBe("$0");
    expect(costAxis(0.005)).toBe("$0.005");
    expect(costAxis(0.0123)).toBe("$0.01");
    expect(costAxis(12.5)).toBe("$12.50");
    expect(msAxis(0)).toBe("0");
    expect(msAxis(250)).toBe("250.0 ms");
  });
});
