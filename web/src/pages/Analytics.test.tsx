import { act, cleanup, render, screen, waitFor, within } from "@testing-library/preact";
import { h, type ComponentChildren } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Router } from "wouter-preact";
import { memoryLocation } from "wouter-preact/memory-location";
import type { AnalyticsPoint } from "../api/types";
import Analytics, { groupSeries, METRICS, OTHER } from "./Analytics";

const plots = vi.hoisted(() => [] as { opts: { series: { label?: string }[] }; data: unknown[][] }[]);
vi.mock("uplot", () => ({
  default: class {
    width = 600;
    ctx = { canvas: document.createElement("canvas") };
    over = document.createElement("div");
    constructor(opts: { series: { label?: string }[] }, data: unknown[][], el: HTMLElement) {
      el.appendChild(this.ctx.canvas);
      plots.push({ opts, data });
    }
    setData() {}
    setSize() {}
    destroy() {}
  },
}));

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

const stats = (o: Partial<Record<string, number>> = {}) => ({
  requests: 0, errors: 0, errors_4xx: 0, errors_5xx: 0, tokens_in: 0, tokens_out: 0, cost: 0,
  latency_avg_ms: 0, latency_p50_ms: 0, latency_p95_ms: 0, latency_p99_ms: 0, ttft_p50_ms: 0, ttft_p95_ms: 0, ...o,
});
const pt = (group: string, iso: string, o: Partial<Record<string, number>>) => ({ group, bucket_start: iso, ...stats(o) }) as AnalyticsPoint;

const T0 = Date.parse("2026-11-26T10:00:00Z");
const times = [T0, T0 + 3600_000, T0 + 7200_000];
const iso = (i: number) => new Date(times[i]).toISOString();

describe("groupSeries", () => {
  const groups = ["a", "b", "c", "d"].map((g) => ({ group: g }));
  const data = [
    pt("a", iso(0), { requests: 5, latency_p95_ms: 100 }), pt("a", iso(2), { requests: 7, latency_p95_ms: 120 }),
    pt("b", iso(1), { requests: 3, latency_p95_ms: 300 }),
    pt("c", iso(1), { requests: 2, latency_p95_ms: 50 }), pt("d", iso(1), { requests: 1 }), pt("d", iso(2), { requests: 4 }),
  ];
  const requests = METRICS.find((m) => m.id === "requests")!;
  const p95 = METRICS.find((m) => m.id === "p95")!;

  it("draws the top groups and sums the rest as Other", () => {
    const s = groupSeries(times, data, groups, requests, (g) => g.toUpperCase(), 2);
    expect(s.map((x) => x.label)).toEqual(["A", "B", OTHER]);
    expect(s[0].values).toEqual([5, 0, 7]);
    expect(s[1].values).toEqual([0, 3, 0]);
    expect(s[2].values).toEqual([0, 3, 4]);
    expect(new Set(s.map((x) => x.color)).size).toBe(3);
  });

  it("does not add up percentiles: no Other, gaps where a group had no calls", () => {
    const s = groupSeries(times, data, groups, p95, (g) => g, 2);
    expect(s.map((x) => x.label)).toEqual(["a", "b"]);
    expect(s[0].values).toEqual([100, null, 120]);
    expect(s[1].values).toEqual([null, 300, null]);
  });

  it("has no Other when every group fits", () => {
    expect(groupSeries(times, data, groups, requests, (g) => g, 10).map((x) => x.label)).toEqual(["a", "b", "c", "d"]);
  });
});

describe("Analytics page", () => {
  let calls: URL[];
  beforeEach(() => {
    plots.length = 0;
    calls = [];
    vi.stubGlobal("fetch", vi.fn(async (input: string) => {
      const u = new URL(input, "http://localhost");
      calls.push(u);
      const path = u.pathname.replace("/admin/api/v1", "");
      let body: unknown = { data: [], page: 1, per_page: 200, total: 0 };
      if (path === "/services") body = { data: [{ id: 3, name: "Chat API" }, { id: 4, name: "Search" }], page: 1, per_page: 200, total: 2 };
      if (path === "/analytics") {
        const by = u.searchParams.get("group_by");
        const since = u.searchParams.get("since")!;
        const until = u.searchParams.get("until")!;
        const b = new Date(Math.floor(Date.parse(until) / 3600_000) * 3600_000).toISOString();
        const gs = by === "service" ? ["3", "4", "0"] : ["gpt-4o", "mini"];
        body = {
          since, until, bucket: u.searchParams.get("bucket"), group_by: by, names: by === "service" ? { "3": "Chat API" } : {},
          data: gs.map((g, i) => pt(g, b, { requests: 10 - i })),
          groups: gs.map((g, i) => ({ group: g, ...stats({ requests: 10 - i, errors_4xx: i, errors_5xx: 1, tokens_in: 100, tokens_out: 50, cost: 0.5, latency_p50_ms: 120, latency_p95_ms: 400, latency_p99_ms: 900, ttft_p50_ms: i ? 0 : 80, ttft_p95_ms: i ? 0 : 150 }) })),
          total: stats({ requests: 27 }),
        };
      }
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }));
  });
  afterEach(() => { cleanup(); vi.unstubAllGlobals(); });

  it("groups by service by default: a chart per metric and a table of groups", async () => {
    const { tree } = at("/analytics?range=7d&model=gpt-4o", <Analytics />);
    render(tree);
    const table = await screen.findByRole("table", { name: "Groups by service" });
    const rows = within(table).getAllByRole("row");
    expect(rows).toHaveLength(4);
    expect(rows[1].textContent).toContain("Chat API");
    expect(rows[2].textContent).toContain("Search"); // named from /services when the answer's names lack it
    expect(rows[3].textContent).toContain("No service");
    expect(rows[1].textContent).toContain("80.0 ms / 150.0 ms");
    expect(rows[2].textContent).toContain("—");
    const q = calls.find((u) => u.pathname.endsWith("/analytics"))!.searchParams;
    expect(q.get("group_by")).toBe("service");
    expect(q.get("model")).toBe("gpt-4o");
    expect(q.get("bucket")).toBe("hour");
    await waitFor(() => expect(plots).toHaveLength(METRICS.length));
    expect(plots[0].opts.series.slice(1).map((s) => s.label)).toEqual(["Chat API", "Search", "No service"]);
    expect((screen.getByLabelText("Model") as HTMLSelectElement).value).toBe("gpt-4o");
  });

  it("changes the grouping and filters through the URL", async () => {
    const { tree, loc } = at("/analytics", <Analytics />);
    render(tree);
    await screen.findByRole("table", { name: "Groups by service" });
    pick(screen.getByLabelText("Group by"), "model");
    await waitFor(() => expect(loc.history!.at(-1)).toBe("/analytics?group_by=model"));
    await screen.findByRole("table", { name: "Groups by model" });
    expect(calls.filter((u) => u.pathname.endsWith("/analytics")).at(-1)!.searchParams.get("group_by")).toBe("model");
    await waitFor(() => expect((screen.getByLabelText("Service") as HTMLSelectElement).options.length).toBe(3));
    pick(screen.getByLabelText("Service"), "4");
    await waitFor(() => expect(loc.history!.at(-1)).toBe("/analytics?group_by=model&service_id=4"));
    await waitFor(() => expect(calls.filter((u) => u.pathname.endsWith("/analytics")).at(-1)!.searchParams.get("service_id")).toBe("4"));
  });
});
