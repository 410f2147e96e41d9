import { afterEach, describe, expect, it, vi } from "vitest";
import { confirmDelete } from "./dialog";

afterEach(() => vi.unstubAllGlobals());

function stub(answer: boolean, status: number) {
  const fetch = vi.fn(async () => new Response(status === 204 ? null : JSON.stringify({ error: { message: "provider is a target of models gpt" } }), { status }));
  vi.stubGlobal("fetch", fetch);
  vi.stubGlobal("confirm", vi.fn(() => answer)); // no ConfirmHost mounted: window.confirm
  return fetch;
}

describe("confirmDelete", () => {
  it("sends nothing when the person cancels", async () => {
    const fetch = stub(false, 204);
    expect(await confirmDelete({ title: "Delete", message: "sure?", confirmLabel: "Delete", path: "/teams/1" })).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });
  it("deletes after the confirmation", async () => {
    const fetch = stub(true, 204);
    expect(await confirmDelete({ title: "Delete", message: "sure?", confirmLabel: "Delete", path: "/teams/1" })).toBe(true);
    expect(fetch).toHaveBeenCalledWith("/admin/api/v1/teams/1", expect.objectContaining({ method: "DELETE" }));
  });
  it("hands the API's refusal to the page", async () => {
    stub(true, 409);
    const onError = vi.fn();
    expect(await confirmDelete({ title: "Delete", message: "sure?", confirmLabel: "Delete", path: "/providers/2", onError })).toBe(false);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ status: 409, message: "provider is a target of models gpt" }));
  });
});
