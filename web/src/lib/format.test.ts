import { describe, expect, it } from "vitest";
import { fmtAgo, fmtCompact, fmtCost, fmtUs } from "./format";

describe("format", () => {
  it("shows microseconds in the unit a person reads", () => {
    expect(fmtUs(850)).toBe("850 µs");
    expect(fmtUs(1234)).toBe("1.23 ms");
    expect(fmtUs(123_400)).toBe("123.4 ms");
    expect(fmtUs(2_500_000)).toBe("2.50 s");
    expect(fmtUs(undefined)).toBe("—");
  });
  it("says never for an empty or zero time", () => {
    expect(fmtAgo("")).toBe("never");
    expect(fmtAgo("0001-01-01T00:00:00Z")).toBe("never");
    const now = Date.parse("2026-11-26T12:00:00Z");
    expect(fmtAgo("2026-11-26T11:55:00Z", now)).toBe("5 min ago");
    expect(fmtAgo("2026-11-24T12:00:00Z", now)).toBe("2 d ago");
  });
  it("compacts counts and money", () => {
    expect(fmtCompact(999)).toBe("999");
    expect(fmtCompact(12_345)).toBe("12.3k");
    expect(fmtCompact(1_500_000)).toBe("1.5M");
    expect(fmtCost(0)).toBe("$0");
    expect(fmtCost(0.000123)).toBe("$0.00012");
    expect(fmtCost(12.345)).toBe("$12.35");
  });
});
