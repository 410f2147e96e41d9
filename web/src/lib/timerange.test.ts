import { describe, expect, it } from "vitest";
import { allowedBuckets, bucketStarts, chooseBucket, fillBuckets, fromLocalInput, rangeQuery, resolveRange, spanMs, toLocalInput } from "./timerange";

const NOW = Date.parse("2026-11-26T14:30:00Z");
const H = 3600_000;

describe("resolveRange", () => {
  it("defaults to the fallback preset", () => {
    const r = resolveRange({}, NOW);
    expect(r.preset).toBe("24h");
    expect(r.until!.getTime()).toBe(NOW);
    expect(r.since!.getTime()).toBe(NOW - 24 * H);
    expect(r.label).toBe("Last 24 hours");
  });
  it("reads a preset and ignores an unknown one", () => {
    expect(resolveRange({ range: "7d" }, NOW).since!.getTime()).toBe(NOW - 7 * 24 * H);
    expect(resolveRange({ range: "2w" }, NOW).preset).toBe("24h");
    expect(resolveRange({ range: "1h" }, NOW, "all").preset).toBe("1h");
  });
  it("has no bounds for 'all'", () => {
    const r = resolveRange({}, NOW, "all");
    expect(r.preset).toBe("all");
    expect(r.since).toBeUndefined();
    expect(r.until).toBeUndefined();
  });
  it("prefers a custom since/until over the preset", () => {
    const r = resolveRange({ range: "1h", since: "2026-11-20T00:00:00Z", until: "2026-11-21T00:00:00Z" }, NOW);
    expect(r.preset).toBe("custom");
    expect(r.since!.toISOString()).toBe("2026-11-20T00:00:00.000Z");
    expect(r.until!.toISOString()).toBe("2026-11-21T00:00:00.000Z");
  });
  it("accepts an open-ended custom range", () => {
    const r = resolveRange({ since: "2026-11-26T10:00:00Z" }, NOW);
    expect(r.preset).toBe("custom");
    expect(r.until).toBeUndefined();
    expect(spanMs(r, NOW)).toBe(4.5 * H);
  });
  it("falls back with an error on a bad or inverted custom range", () => {
    const bad = resolveRange({ since: "yesterday" }, NOW);
    expect(bad.preset).toBe("24h");
    expect(bad.error).toMatch(/not valid/);
    const inverted = resolveRange({ since: "2026-11-21T00:00:00Z", until: "2026-11-20T00:00:00Z" }, NOW);
    expect(inverted.preset).toBe("24h");
    expect(inverted.error).toMatch(/before the end/);
  });
});

describe("buckets", () => {
  it("chooses the finest bucket with at most ~400 points", () => {
    expect(chooseBucket(H)).toBe("minute");
    expect(chooseBucket(6 * H)).toBe("minute");
    expect(chooseBucket(24 * H)).toBe("hour");
    expect(chooseBucket(7 * 24 * H)).toBe("hour");
    expect(chooseBucket(30 * 24 * H)).toBe("day");
  });
  it("honours an asked bucket only when the server accepts it", () => {
    expect(chooseBucket(24 * H, "minute")).toBe("minute");
    expect(chooseBucket(24 * H, "day")).toBe("day");
    expect(chooseBucket(30 * 24 * H, "minute")).toBe("day"); // 43 200 minutes > 10 080
    expect(chooseBucket(24 * H, "week")).toBe("hour");
  });
  it("lists the buckets the server accepts", () => {
    expect(allowedBuckets(7 * 24 * H)).toEqual(["minute", "hour", "day"]);
    expect(allowedBuckets(8 * 24 * H)).toEqual(["hour", "day"]);
  });
  it("builds the query of a range", () => {
    const q = rangeQuery(resolveRange({ range: "6h" }, NOW), NOW);
    expect(q).toEqual({ since: "2026-11-26T08:30:00.000Z", until: "2026-11-26T14:30:00.000Z", bucket: "minute" });
    const open = rangeQuery(resolveRange({}, NOW, "all"), NOW);
    expect(open.bucket).toBe("hour");
    expect(open.until).toBe("2026-11-26T14:30:00.000Z");
  });
  it("lists bucket starts truncated to the bucket, until exclusive", () => {
    const t = bucketStarts("2026-11-26T10:20:00Z", "2026-11-26T13:00:00Z", "hour");
    expect(t.map((x) => new Date(x).toISOString())).toEqual([
      "2026-11-26T10:00:00.000Z", "2026-11-26T11:00:00.000Z", "2026-11-26T12:00:00.000Z",
    ]);
    expect(bucketStarts("2026-11-24T23:00:00Z", "2026-11-26T14:30:00Z", "day")).toHaveLength(3);
    expect(bucketStarts("2026-11-26T14:30:00Z", "2026-11-26T14:00:00Z", "minute")).toEqual([]);
  });
  it("fills missing buckets with zero (counts) or null (gaps) and sums duplicates", () => {
    const times = bucketStarts("2026-11-26T10:00:00Z", "2026-11-26T14:00:00Z", "hour");
    const pts = [
      { bucket_start: "2026-11-26T11:00:00Z", v: 3 },
      { bucket_start: "2026-11-26T13:00:00Z", v: 2 },
      { bucket_start: "2026-11-26T13:00:00Z", v: 5 },
      { bucket_start: "2026-11-27T00:00:00Z", v: 99 }, // outside the grid
    ];
    expect(fillBuckets(times, pts, (p) => p.v)).toEqual([0, 3, 0, 7]);
    expect(fillBuckets(times, pts, (p) => p.v, null)).toEqual([null, 3, null, 7]);
  });
});

describe("datetime-local conversion", () => {
  it("round-trips through local time", () => {
    const iso = "2026-11-26T14:05:00.000Z";
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(fromLocalInput("")).toBe("");
    expect(fromLocalInput("nonsense")).toBe("");
    expect(toLocalInput("bad")).toBe("");
  });
});
