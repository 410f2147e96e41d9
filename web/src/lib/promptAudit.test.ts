import { describe, expect, it } from "vitest";
import { changedKeys, checkUser, emailOK, fromLocalInput, passwordError, prettyJSON, toLocalInput } from "./promptAudit";

describe("audit helpers", () => {
  it("pretty-prints JSON and keeps other text", () => {
    expect(prettyJSON('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyJSON("")).toBe("");
    expect(prettyJSON("null")).toBe("");
    expect(prettyJSON("not json")).toBe("not json");
  });
  it("lists the changed top-level keys, not updated_at", () => {
    expect(changedKeys('{"name":"a","role":"member","updated_at":"x"}', '{"name":"a","role":"admin","updated_at":"y","disabled":true}')).toEqual(["disabled", "role"]);
    expect(changedKeys("", '{"id":1}')).toEqual(["id"]);
  });
  it("turns the since filter into RFC 3339 and back", () => {
    const iso = fromLocalInput("2030-05-06T07:08");
    expect(iso).toMatch(/^2030-05-0\dT\d\d:08:00Z$/);
    expect(toLocalInput(iso)).toBe("2030-05-06T07:08");
    expect(fromLocalInput("")).toBe("");
    expect(toLocalInput("garbage")).toBe("");
  });
});

describe("user form", () => {
  it("checks emails as the API does", () => {
    expect(emailOK("ops@example.com")).toBe(true);
    expect(emailOK(" Ops@Example.com ")).toBe(true);
    for (const bad of ["", "@example.com", "ops@", "op s@example.com", "opsexample.com"]) expect(emailOK(bad)).toBe(false);
  });
  it("checks password length in bytes: 8 to 72", () => {
    expect(passwordError("1234567")).toMatch(/8/);
    expect(passwordError("12345678")).toBe("");
    expect(passwordError("é".repeat(37))).toMatch(/72/); // 74 bytes
  });
  it("validates creation but not edits of email and password", () => {
    expect(Object.keys(checkUser({ email: "x", name: "", role: "member", password: "short" }, true)).sort()).toEqual(["email", "password"]);
    expect(checkUser({ email: "", name: "Ann", role: "admin", password: "" }, false)).toEqual({});
  });
});
