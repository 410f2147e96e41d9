import { cleanup, render } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";

afterEach(cleanup);
import { layoutWaterfall, MIN_WIDTH_PCT, niceStep, Waterfall, type WaterfallIn } from "./Waterfall";

// A real call from the dev server: the first target refused the connection
// (an attempt lasting 0 µs), the second answered 500 after 164 ms, the third
// (the first again) refused; phases arrive in the API's order.
const retried: WaterfallIn = {
  total_us: 421379,
  phases: [
    { name: "total", start_us: 0, duration_us: 421379 },
    { name: "auth", start_us: 0, duration_us: 14 },
    { name: "routing", start_us: 14, duration_us: 15 },
    { name: "attempt", attempt: 1, provider: "dash-dead/gpt-dead", error: "upstream: dial tcp 127.0.0.1:1: connect: connection refused", start_us: 84, duration_us: 0 },
    { name: "attempt", attempt: 2, provider: "dash-fake/gpt-4o-fake", status: 500, error: "upstream status 500: upstream exploded", start_us: 103781, duration_us: 164095 },
    { name: "transfer", attempt: 2, start_us: 267790, duration_us: 86 },
    { name: "ttfb", attempt: 2, start_us: 103781, duration_us: 164009 },
    { name: "attempt", attempt: 3, provider: "dash-dead/gpt-dead", error: "upstream: dial tcp 127.0.0.1:1: connect: connection refused", start_us: 421053, duration_us: 0 },
  ],
};

// A streamed call over TLS with every phase and a time to first token.
const streamed: WaterfallIn = {
  total_us: 1_000_000,
  phases: [
    { name: "total", start_us: 0, duration_us: 1_000_000 },
    { name: "auth", start_us: 0, duration_us: 20 },
    { name: "routing", start_us: 20, duration_us: 30 },
    { name: "attempt", attempt: 1, provider: "openai/gpt-4o", status: 200, start_us: 100, duration_us: 999_900 },
    { name: "dns", attempt: 1, start_us: 100, duration_us: 4_900 },
    { name: "connect", attempt: 1, start_us: 5_000, duration_us: 10_000 },
    { name: "tls", attempt: 1, start_us: 15_000, duration_us: 35_000 },
    { name: "ttfb", attempt: 1, start_us: 50_000, duration_us: 200_000 },
    { name: "transfer", attempt: 1, start_us: 250_000, duration_us: 750_000 },
    { name: "ttft", start_us: 0, duration_us: 260_000 },
  ],
};

describe("layoutWaterfall", () => {
  it("orders rows: total, auth, routing, then each attempt with its phases indented", () => {
    const l = layoutWaterfall(retried);
    expect(l.rows.map((r) => `${"  ".repeat(r.depth)}${r.name}${r.attempt ? "#" + r.attempt : ""}`)).toEqual([
      "total", "auth", "routing", "attempt#1", "attempt#2", "  ttfb#2", "  transfer#2", "attempt#3",
    ]);
    expect(l.totalUs).toBe(421379);
  });

  it("places bars by start and duration as a percent of the total", () => {
    const l = layoutWaterfall(streamed);
    const by = (n: string) => l.rows.find((r) => r.name === n)!;
    expect(by("total").leftPct).toBe(0);
    expect(by("total").widthPct).toBe(100);
    expect(by("ttfb").leftPct).toBeCloseTo(5);
    expect(by("ttfb").widthPct).toBeCloseTo(20);
    expect(by("transfer").leftPct).toBeCloseTo(25);
    expect(by("transfer").widthPct).toBeCloseTo(75);
    expect(by("tls").widthPct).toBeCloseTo(3.5);
    expect(by("tls").widened).toBe(false);
    expect(l.ttftUs).toBe(260_000);
    expect(l.ttftPct).toBeCloseTo(26);
    expect(l.rows.map((r) => r.name)).toEqual(["total", "auth", "routing", "attempt", "dns", "connect", "tls", "ttfb", "transfer", "ttft"]);
  });

  it("widens tiny and zero-length phases so they can be seen, inside the axis", () => {
    const l = layoutWaterfall(retried);
    const first = l.rows.find((r) => r.name === "attempt" && r.attempt === 1)!;
    expect(first.durationUs).toBe(0);
    expect(first.widthPct).toBe(MIN_WIDTH_PCT);
    expect(first.widened).toBe(true);
    const auth = l.rows.find((r) => r.name === "auth")!;
    expect(auth.widthPct).toBe(MIN_WIDTH_PCT);
    // The last attempt starts at the very end: moved left to stay on the axis.
    const last = l.rows.find((r) => r.name === "attempt" && r.attempt === 3)!;
    expect(last.leftPct + last.widthPct).toBeLessThanOrEqual(100);
    expect(last.leftPct).toBeCloseTo(100 - MIN_WIDTH_PCT);
    for (const r of l.rows) expect(r.widthPct).toBeGreaterThan(0);
  });

  it("marks failed attempts and describes them", () => {
    const l = layoutWaterfall(retried);
    const a = l.rows.filter((r) => r.name === "attempt");
    expect(a.map((r) => r.failed)).toEqual([true, true, true]);
    expect(a[1].status).toBe(500);
    expect(a[1].label).toBe("Attempt 2 · dash-fake/gpt-4o-fake");
    expect(a[1].aria).toBe("attempt 2 164.1 ms, status 500, failed");
    expect(a[1].title).toContain("upstream exploded");
    expect(a[1].title).toContain("103781 µs");
    const ok = layoutWaterfall(streamed).rows.find((r) => r.name === "attempt")!;
    expect(ok.failed).toBe(false);
  });

  it("stretches the axis to the furthest phase and survives empty input", () => {
    const l = layoutWaterfall({ total_us: 100, phases: [{ name: "auth", start_us: 50, duration_us: 150 }] });
    expect(l.totalUs).toBe(200);
    expect(l.rows[0].leftPct).toBe(25);
    expect(l.rows[0].widthPct).toBe(75);
    expect(layoutWaterfall({}).rows).toEqual([]);
    expect(layoutWaterfall({ total_us: 0, phases: null }).ticks).toEqual([]);
  });

  it("puts ticks on round values", () => {
    expect(niceStep(421379)).toBe(100000);
    expect(niceStep(1_000_000)).toBe(200000);
    expect(niceStep(55)).toBe(20);
    expect(niceStep(0)).toBe(1);
    const l = layoutWaterfall(retried);
    expect(l.ticks.map((t) => t.label)).toEqual(["0 µs", "100.0 ms", "200.0 ms", "300.0 ms", "400.0 ms"]);
  });
});

describe("Waterfall", () => {
  it("draws one bar per phase with its width, accessible name and tooltip", () => {
    const { getByTestId, getAllByRole, getByText } = render(<Waterfall data={streamed as never} />);
    const wf = getByTestId("waterfall");
    const bars = wf.querySelectorAll<HTMLElement>(".wf-bar");
    expect(bars).toHaveLength(10);
    const ttfb = getAllByRole("img").find((b) => b.getAttribute("aria-label") === "ttfb 200.0 ms")!;
    expect(ttfb.style.width).toBe("20%");
    expect(ttfb.style.left).toBe("5%");
    expect(ttfb.getAttribute("title")).toContain("Time to first byte: 200.0 ms");
    expect(getByText("First token at 260.0 ms")).toBeTruthy();
    expect(wf.querySelector(".wf-ttft-line")).not.toBeNull();
  });

  it("shows retries as separate failed rows with their errors", () => {
    const { getByTestId, getAllByText } = render(<Waterfall data={retried as never} />);
    const wf = getByTestId("waterfall");
    expect(wf.querySelectorAll(".wf-bar.wf-attempt")).toHaveLength(3);
    expect(wf.querySelectorAll(".wf-bar.wf-failed")).toHaveLength(3);
    expect(getAllByText(/connection refused/)).toHaveLength(2);
    for (const b of wf.querySelectorAll<HTMLElement>(".wf-bar")) expect(parseFloat(b.style.width)).toBeGreaterThan(0);
  });

  it("says so when no timings were recorded", () => {
    const { getByText } = render(<Waterfall data={{ total_us: 0, phases: [] }} />);
    expect(getByText("No timings were recorded for this call.")).toBeTruthy();
  });
});
