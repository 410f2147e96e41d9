import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, queryString } from "./client";
import { session } from "../lib/session";
import { submitErrors } from "../components/ui";

afterEach(() => {
  vi.unstubAllGlobals();
  session.end();
});

const user = { id: 1, email: "a@b.c", name: "A", role: "admin" as const, disabled: false, created_at: "", updated_at: "" };

describe("client", () => {
  it("drops empty query values", () => {
    expect(queryString({ q: "", page: 2, x: undefined, ok: false })).toBe("?page=2&ok=false");
    expect(queryString({})).toBe("");
  });

  it("sends the session token and turns the error envelope into an ApiError with its field", async () => {
    session.start({ token: "tok", expires_at: new Date(Date.now() + 3600e3).toISOString(), user });
    const fetch = vi.fn(async () => new Response(JSON.stringify({ error: { message: "name is required", param: "name", type: "invalid_request_error" } }), { status: 400 }));
    vi.stubGlobal("fetch", fetch);
    const err = (await api.post("/teams", {}).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.param).toBe("name");
    expect((fetch.mock.calls[0] as unknown[])[1]).toMatchObject({ headers: { Authorization: "Bearer tok" } });
    expect(submitErrors(err, ["name"])).toEqual({ name: "name is required" });
    expect(submitErrors(new ApiError(400, "bad weight", "targets[0].weight"), ["targets"])).toEqual({ targets: "bad weight" });
    expect(submitErrors(err, ["other"])).toEqual({ "": "name is required" });
  });

  it("ends the session on a 401 and says why", async () => {
    session.start({ token: "tok", expires_at: new Date(Date.now() + 3600e3).toISOString(), user });
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: { message: "session expired" } }), { status: 401 })));
    await expect(api.get("/me")).rejects.toBeInstanceOf(ApiError);
    expect(session.value).toBeNull();
    expect(session.reason).toMatch(/expired/);
  });

  it("expires a session by the clock", () => {
    vi.useFakeTimers();
    session.start({ token: "tok", expires_at: new Date(Date.now() + 1000).toISOString(), user });
    vi.advanceTimersByTime(1001);
    expect(session.value).toBeNull();
    vi.useRealTimers();
  });
});
