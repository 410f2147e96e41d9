import { describe, expect, it } from "vitest";
import { describeSeries, INTEGER_INCRS } from "./Chart";

describe("Chart", () => {
  it("steps a count axis only by whole numbers, ascending", () => {
    expect(INTEGER_INCRS.slice(0, 6)).toEqual([1, 2, 5, 10, 20, 50]);
    for (let i = 0; i < INTEGER_INCRS.length; i++) {
      expect(Number.isInteger(INTEGER_INCRS[i])).toBe(true);
      if (i > 0) expect(INTEGER_INCRS[i]).toBeGreaterThan(INTEGER_INCRS[i - 1]);
    }
  });
  it("describes the series for screen readers", () => {
    expect(describeSeries("Requests", [{ label: "Requests", values: [1, null, 2], color: "#000" } as never], (v) => String(v))).toMatch(/Requests total 3/);
  });
});
