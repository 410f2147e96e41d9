import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { fmtPrice, fmtShare, modelApiErrors, modelBody, move, remapRowErrors, shareGroups, validateModel, type ModelForm, type TargetRow } from "../lib/models";

const t = (provider_id: string, upstream_model: string, weight = "1", priority = "0"): TargetRow => ({ provider_id, upstream_model, weight, priority });
const form = (patch: Partial<ModelForm> = {}): ModelForm => ({ name: "gpt-4o", input_price: "", output_price: "", targets: [t("1", "gpt-4o")], ...patch });

describe("shareGroups", () => {
  it("splits each priority group by weight, lowest priority first", () => {
    const g = shareGroups([t("1", "a", "3", "0"), t("2", "b", "1", "1"), t("3", "c", "1", "0"), t("4", "d", "2", "1"), t("5", "e", "1", "5")]);
    expect(g.map((x) => x.priority)).toEqual([0, 1, 5]);
    expect(g[0].targets.map((x) => [x.index, x.share])).toEqual([[0, 0.75], [2, 0.25]]);
    expect(g[1].targets.map((x) => x.share)).toEqual([1 / 3, 2 / 3]);
    expect(g[2].targets[0].share).toBe(1);
  });
  it("leaves out targets whose weight is not valid yet, and reads empty priority as 0", () => {
    const g = shareGroups([t("1", "a", "0"), t("2", "b", "x"), t("3", "c", "2", ""), t("4", "d", "1", "-1")]);
    expect(g).toHaveLength(1);
    expect(g[0].priority).toBe(0);
    expect(g[0].targets.map((x) => [x.index, x.share])).toEqual([[2, 1]]);
  });
  it("accepts numbers from the API", () => {
    expect(shareGroups([{ weight: 1, priority: 0 }, { weight: 1, priority: 0 }])[0].targets[1].share).toBe(0.5);
  });
});

describe("formatting", () => {
  it("shows shares and prices readably", () => {
    expect(fmtShare(0.75)).toBe("75%");
    expect(fmtShare(1 / 3)).toBe("33.3%");
    expect(fmtShare(1)).toBe("100%");
    expect(fmtPrice(2.5)).toBe("$2.50");
    expect(fmtPrice(10)).toBe("$10.00");
    expect(fmtPrice(0.075)).toBe("$0.075");
    expect(fmtPrice(0.0015)).toBe("$0.0015");
    expect(fmtPrice(0)).toBe("$0");
  });
});

describe("validateModel", () => {
  it("accepts a valid form", () => {
    expect(validateModel(form())).toEqual({});
  });
  it("needs a name that the API accepts and at least one target", () => {
    expect(validateModel(form({ name: "" })).name).toBeDefined();
    expect(validateModel(form({ name: "-bad" })).name).toBeDefined();
    expect(validateModel(form({ name: "meta-llama/Llama-3.1-8B@x" }))).toEqual({});
    expect(validateModel(form({ targets: [] })).targets).toMatch(/at least one target/);
  });
  it("rejects weight 0, fractions, negative priority, and missing fields, per row", () => {
    const e = validateModel(form({ targets: [t("", "", "0", "-1"), t("1", "a", "1.5", "0.5"), t("1", "b", "1000000", "1000000")] }));
    expect(Object.keys(e).sort()).toEqual([
      "targets[0].priority", "targets[0].provider_id", "targets[0].upstream_model", "targets[0].weight",
      "targets[1].priority", "targets[1].weight",
    ]);
  });
  it("rejects repeated targets and bad prices", () => {
    const e = validateModel(form({ input_price: "-1", output_price: "abc", targets: [t("1", "a"), t("1", " a ")] }));
    expect(e["targets[1].upstream_model"]).toMatch(/Repeats target 1/);
    expect(e.input_price).toBeDefined();
    expect(e.output_price).toBeDefined();
  });
});

describe("modelBody", () => {
  it("sends numbers, with empty prices and priority as 0", () => {
    expect(modelBody(form({ name: " m ", input_price: "2.5", targets: [t("3", " up ", "2", "")] }))).toEqual({
      name: "m", input_price: 2.5, output_price: 0, targets: [{ provider_id: 3, upstream_model: "up", weight: 2, priority: 0 }],
    });
  });
});

describe("modelApiErrors", () => {
  it("keeps row params so they show beside the row's field", () => {
    expect(modelApiErrors(new ApiError(400, "bad weight", "targets[2].weight"))).toEqual({ "targets[2].weight": "bad weight" });
    expect(modelApiErrors(new ApiError(400, "x", "targets[1]"))).toEqual({ "targets[1]": "x" });
    expect(modelApiErrors(new ApiError(400, "dup", "name"))).toEqual({ name: "dup" });
    expect(modelApiErrors(new ApiError(409, "in use"))).toEqual({ "": "in use" });
    expect(modelApiErrors(new Error("net"))).toEqual({ "": "net" });
  });
});

describe("reordering", () => {
  it("moves rows and their errors together", () => {
    expect(move([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    const order = move([0, 1, 2], 0, 1); // [1, 0, 2]
    expect(remapRowErrors({ "targets[0].weight": "w", name: "n", "targets[2].priority": "p" }, order))
      .toEqual({ "targets[1].weight": "w", name: "n", "targets[2].priority": "p" });
    // removing row 0: rows 1, 2 become 0, 1 and row 0's errors go
    expect(remapRowErrors({ "targets[0].weight": "w", "targets[2].priority": "p" }, [1, 2])).toEqual({ "targets[1].priority": "p" });
  });
});
