import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { providerKinds, type Breaker } from "../api/types";
import {
  apiFieldErrors, baseURLRequired, checkRows, healthByProvider, infoOf, mapOf, ownerOf, providerBody, rowsOf, validateProvider,
  type ProviderForm,
} from "../lib/providers";

const b = (target_id: string, state: string, consecutive_failures = 0, opened_at = ""): Breaker =>
  ({ target_id, state, consecutive_failures, opened_at }) as Breaker;

const form = (patch: Partial<ProviderForm> = {}): ProviderForm => ({
  name: "main", kind: "openai", base_url: "", api_key: "", remove_key: false, settings: [], headers: [], timeout_ms: "", enabled: true, ...patch,
});

describe("kind info", () => {
  it("knows every kind the API accepts", () => {
    for (const k of providerKinds) expect(infoOf(k), k).toBeDefined();
  });
  it("requires a base URL only where there is no default", () => {
    expect(baseURLRequired("openai-compatible")).toBe(true);
    expect(baseURLRequired("azure")).toBe(true);
    expect(baseURLRequired("mistral")).toBe(false);
    expect(baseURLRequired("ollama")).toBe(false);
    expect(infoOf("gemini")!.settings.map((s) => s.key)).toEqual(["api_version"]);
    expect(infoOf("azure")!.settings.map((s) => s.key)).toEqual(["deployment", "api_version"]);
    expect(infoOf("anthropic")!.canList).toBe(false);
  });
});

describe("health", () => {
  it("matches target ids to the longest provider name", () => {
    expect(ownerOf("openai/gpt-4o", ["openai", "open"])).toBe("openai");
    expect(ownerOf("together/meta-llama/Llama-3-8b", ["together", "meta-llama"])).toBe("together");
    expect(ownerOf("a/b/c", ["a", "a/b"])).toBe("a/b");
    expect(ownerOf("openai-eu/gpt-4o", ["openai"])).toBeUndefined();
  });
  it("keeps the worst state with its failures and opened time", () => {
    const h = healthByProvider([
      b("p1/a", "closed", 1),
      b("p1/b", "open", 5, "2026-01-01T00:00:00Z"),
      b("p1/c", "half-open", 2, "2026-01-01T00:01:00Z"),
      b("p2/a", "closed", 0),
      b("p2/b", "closed", 2),
      b("other/x", "open", 9),
    ], ["p1", "p2"]);
    expect(h.get("p1")).toMatchObject({ state: "open", failures: 5, openedAt: "2026-01-01T00:00:00Z" });
    expect(h.get("p1")!.targets).toHaveLength(3);
    expect(h.get("p2")).toMatchObject({ state: "closed", failures: 2, openedAt: "" });
    expect(h.has("other")).toBe(false);
  });
  it("ranks half-open above closed", () => {
    const h = healthByProvider([b("p/a", "closed", 4), b("p/b", "half-open", 0, "2026-01-01T00:00:00Z")], ["p"]);
    expect(h.get("p")!.state).toBe("half-open");
  });
});

describe("key/value rows", () => {
  it("round-trips maps and drops blank rows", () => {
    expect(rowsOf({ a: "1" })).toEqual([{ key: "a", value: "1" }]);
    expect(mapOf([{ key: " a ", value: "1" }, { key: "", value: "" }])).toEqual({ a: "1" });
  });
  it("flags bad, blank and repeated keys on their row", () => {
    const e = checkRows("settings", [
      { key: "deployment", value: "x" },
      { key: "", value: "orphan" },
      { key: "bad key", value: "x" },
      { key: "deployment", value: "y" },
      { key: "", value: "" },
    ]);
    expect(Object.keys(e).sort()).toEqual(["settings.1", "settings.2", "settings.3"]);
    expect(e["settings.3"]).toMatch(/Repeats row 1/);
  });
  it("checks header names case-insensitively and values for newlines", () => {
    const e = checkRows("headers", [{ key: "X-Team", value: "a" }, { key: "x-team", value: "b" }, { key: "X-Ok", value: "a\nb" }, { key: "Bad:Name", value: "" }]);
    expect(e["headers.1"]).toMatch(/Repeats/);
    expect(e["headers.2"]).toMatch(/one line/);
    expect(e["headers.3"]).toMatch(/header name/);
    expect(e["headers.0"]).toBeUndefined();
  });
});

describe("validateProvider", () => {
  it("accepts a preset with an empty base URL", () => {
    expect(validateProvider(form({ kind: "groq" }))).toEqual({});
  });
  it("needs a name, a base URL for azure, and a sane timeout", () => {
    const e = validateProvider(form({ name: " ", kind: "azure", timeout_ms: "-5" }));
    expect(Object.keys(e).sort()).toEqual(["base_url", "name", "timeout_ms"]);
    expect(validateProvider(form({ base_url: "ftp://x" })).base_url).toBeDefined();
    expect(validateProvider(form({ timeout_ms: "3600001" })).timeout_ms).toBeDefined();
    expect(validateProvider(form({ timeout_ms: "3600000" }))).toEqual({});
    expect(validateProvider(form({ kind: "nope" })).kind).toBeDefined();
  });
});

describe("providerBody", () => {
  it("sends the key only when typed, and \"\" to remove it on edit", () => {
    const f = form({ name: " p ", base_url: " http://h/v1 ", settings: [{ key: "a", value: "1" }], timeout_ms: "2500", api_key: " sk " });
    expect(providerBody(f, false)).toEqual({ name: "p", kind: "openai", base_url: "http://h/v1", settings: { a: "1" }, headers: {}, timeout_ms: 2500, enabled: true, api_key: "sk" });
    expect(providerBody(form(), true)).not.toHaveProperty("api_key");
    expect(providerBody(form({ remove_key: true, api_key: "x" }), true).api_key).toBe("");
  });
});

describe("apiFieldErrors", () => {
  const f = { settings: [{ key: "x", value: "" }, { key: "deployment", value: "" }], headers: [{ key: "X-Team", value: "" }] };
  it("puts a setting's or header's error on its row", () => {
    expect(apiFieldErrors(new ApiError(400, "bad", "settings.deployment"), f)).toEqual({ "settings.1": "bad" });
    expect(apiFieldErrors(new ApiError(400, "bad", "headers.x-team"), f)).toEqual({ "headers.0": "bad" });
    expect(apiFieldErrors(new ApiError(400, "bad", "settings.gone"), f)).toEqual({ settings: "bad" });
  });
  it("keeps plain fields and falls back to the form", () => {
    expect(apiFieldErrors(new ApiError(400, "dup", "name"), f)).toEqual({ name: "dup" });
    expect(apiFieldErrors(new ApiError(409, "conflict"), f)).toEqual({ "": "conflict" });
    expect(apiFieldErrors(new ApiError(400, "?", "weird"), f)).toEqual({ "": "?" });
  });
});
