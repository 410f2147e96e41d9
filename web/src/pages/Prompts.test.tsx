import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route } from "wouter-preact";
import { ConfirmHost } from "../components/dialog";
import { mockFetch, pageOf, routed, signInAs, Stream } from "../lib/prompt.testutil";
import Prompts from "./Prompts";

const prompt = (over: Record<string, unknown> = {}) => ({
  id: 7, slug: "summarize", name: "Summarize", description: "", service_id: 3, service_slug: "support", team_id: 1,
  latest_version: 2, published_version: 1, published_by: 1, published_by_email: "admin@example.com", published_at: "2030-01-01T00:00:00Z",
  created_at: "2030-01-01T00:00:00Z", updated_at: "2030-01-01T00:00:00Z", ...over,
});
const version = (n: number, over: Record<string, unknown> = {}) => ({
  prompt_id: 7, version: n, model: "gpt-4o", note: `note ${n}`, created_by: 1, created_by_email: "admin@example.com", created_at: "2030-01-01T00:00:00Z",
  messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Summarize: {{text}}" }],
  parameters: { temperature: 0.2 }, allowed_overrides: ["max_tokens"],
  variables_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"], additionalProperties: false },
  ...over,
});
const common = {
  "GET /models": pageOf([{ id: 1, name: "gpt-4o", input_price: 0, output_price: 0, targets: [], created_at: "", updated_at: "" }]),
  "GET /services": pageOf([{ id: 3, slug: "support", name: "Support" }]),
};

function show(path: string) {
  const { tree, loc } = routed(path, <><Route path="/prompts" component={Prompts} /><Route path="/prompts/:id" component={Prompts} /><ConfirmHost /></>);
  render(tree);
  return loc;
}

beforeEach(() => signInAs("admin"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("Prompts list", () => {
  it("lists prompts with their publish state and sends the filters", async () => {
    const calls = mockFetch({
      ...common,
      "GET /prompts": pageOf([prompt(), prompt({ id: 8, slug: "draft", name: "Drafty", published_version: 0, latest_version: 1 })]),
    });
    show("/prompts?q=sum&service_id=3");
    const table = await screen.findByRole("table", { name: "Prompts" });
    await within(table).findByText("Drafty");
    expect(within(table).getByText("v1 live")).toBeTruthy();
    expect(within(table).getByText("draft only")).toBeTruthy();
    const list = calls.find((c) => c.path === "/prompts")!;
    expect(list.query.get("q")).toBe("sum");
    expect(list.query.get("service_id")).toBe("3");
  });
});

describe("Prompt editor", () => {
  it("highlights placeholders, refuses undeclared ones and saves a version", async () => {
    const calls = mockFetch({
      ...common,
      "GET /prompts/7": prompt(),
      "GET /prompts/7/versions/2": version(2),
      "POST /prompts/7/versions": (c: { body: unknown }) => ({ ...version(3), ...(c.body as object), version: 3 }),
    });
    show("/prompts/7");
    const content = await screen.findByLabelText("Message 2 content") as HTMLTextAreaElement;
    expect(content.value).toBe("Summarize: {{text}}");
    expect(document.querySelector("mark.ph")?.textContent).toBe("{{text}}");
    expect(screen.getByText(/POST .*\/v1\/prompts\/summarize/)).toBeTruthy();

    fireEvent.input(content, { target: { value: "Summarize {{text}} for {{audience}}" } });
    expect(document.querySelector("mark.ph-undeclared")?.textContent).toBe("{{audience}}");
    fireEvent.click(screen.getByRole("button", { name: "Save version" }));
    expect((await screen.findAllByText(/\{\{audience\}\}/, { selector: ".field-error" })).length).toBeGreaterThan(0);
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    fireEvent.click(screen.getByRole("button", { name: "Declare {{audience}}" }));
    expect((screen.getByLabelText("Variable 2 name") as HTMLInputElement).value).toBe("audience");
    fireEvent.input(screen.getByLabelText("Note"), { target: { value: "for an audience" } });
    fireEvent.click(screen.getByRole("button", { name: "Save version" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const body = calls.find((c) => c.method === "POST")!.body as Record<string, any>;
    expect(body.model).toBe("gpt-4o");
    expect(body.note).toBe("for an audience");
    expect(body.parameters).toEqual({ temperature: 0.2 });
    expect(body.variables_schema.properties).toEqual({ text: { type: "string" }, audience: { type: "string" } });
    expect(body.variables_schema.required).toEqual(["text", "audience"]);
    expect(await screen.findByText("Draft based on v3")).toBeTruthy();
  });

  it("shows the API's error beside the message it names", async () => {
    mockFetch({
      ...common,
      "GET /prompts/7": prompt(),
      "GET /prompts/7/versions/2": version(2),
      "POST /prompts/7/versions": { status: 400, body: { error: { message: "messages[0].content must be non-empty UTF-8 text", param: "messages[0].content" } } },
    });
    show("/prompts/7");
    await screen.findByLabelText("Message 1 content");
    fireEvent.click(screen.getByRole("button", { name: "Save version" }));
    const err = await screen.findByText(/must be non-empty UTF-8/);
    expect(err.id).toBe("msg-err-0");
  });
});

describe("Prompt test run", () => {
  it("streams the output as it arrives, then shows the summary", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const summary = {
      version: 2, model: "gpt-4o", status: 200, output: "Hello world", finish_reason: "stop", provider: "up", upstream_model: "gpt-4o",
      latency_ms: 42, usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }, attempts: [{ target: "up/gpt-4o", status: 200 }], messages: [],
    };
    const calls = mockFetch({
      ...common,
      "GET /prompts/7": prompt(),
      "GET /prompts/7/versions": pageOf([version(2), version(1)]),
      "GET /prompts/7/versions/2": version(2),
      "POST /prompts/7/test": new Stream([
        'event: start\ndata: {"version":2,"model":"gpt-4o","messages":[{"role":"user","content":"Summarize: hi"}]}\n\n',
        'event: delta\ndata: {"content":"Hello"}\n\nevent: del',
        'ta\ndata: {"content":" world"}\n\n',
        `event: summary\ndata: ${JSON.stringify(summary)}\n\n`,
      ], gate),
    });
    show("/prompts/7?tab=test");
    const text = await screen.findByLabelText("text");
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    expect(await screen.findByText(/text is required/)).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    fireEvent.input(text, { target: { value: "hi" } });
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    const output = await screen.findByLabelText("Output");
    await waitFor(() => expect(output.textContent).toContain("Hello world"));
    expect(screen.queryByLabelText("Run summary")).toBeNull(); // not yet: the stream is still open
    expect(screen.getByRole("button", { name: "Stop" })).toBeTruthy();
    release();
    const sum = await screen.findByLabelText("Run summary");
    expect(sum.textContent).toContain("Succeeded");
    expect(sum.textContent).toContain("7 tokens");
    expect(sum.textContent).toContain("up/gpt-4o");
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({ version: 2, variables: { text: "hi" }, stream: true });
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
  });

  it("stops a run: the request is aborted", async () => {
    const calls = mockFetch({
      ...common,
      "GET /prompts/7": prompt(),
      "GET /prompts/7/versions": pageOf([version(2)]),
      "GET /prompts/7/versions/2": version(2, { variables_schema: { type: "object", properties: {} }, messages: [{ role: "user", content: "hi" }] }),
      "POST /prompts/7/test": new Stream(['event: delta\ndata: {"content":"partial"}\n\n', "never"], new Promise(() => {})),
    });
    show("/prompts/7?tab=test");
    await screen.findByText(/takes no variables/);
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    await waitFor(() => expect(screen.getByLabelText("Output").textContent).toContain("partial"));
    fireEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(await screen.findByText(/Stopped/)).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")!.signal?.aborted).toBe(true);
  });
});

describe("Prompt versions", () => {
  it("compares two versions and confirms a rollback", async () => {
    const calls = mockFetch({
      ...common,
      "GET /prompts/7": prompt({ published_version: 2, latest_version: 2 }),
      "GET /prompts/7/versions/2": version(2),
      "GET /prompts/7/versions": pageOf([version(2), version(1)]),
      "GET /prompts/7/versions/1/diff/2": {
        from: 1, to: 2, messages: "--- version 1\n+++ version 2\n@@ -1,2 +1,2 @@\n-Be brief.\n+Be very brief.\n",
        changes: [{ path: "parameters.temperature", from: 0.2, to: 0.5 }, { path: "parameters.top_p", to: 1 }],
      },
      "POST /prompts/7/publish": prompt({ published_version: 1 }),
    });
    show("/prompts/7?tab=versions");
    const table = await screen.findByRole("table", { name: "Versions" });
    await within(table).findByText("note 1");
    fireEvent.click(screen.getByLabelText("Select version 2 to compare"));
    fireEvent.click(screen.getByLabelText("Select version 1 to compare"));
    fireEvent.click(screen.getByRole("button", { name: "Compare v1 → v2" }));
    const diff = await screen.findByRole("region", { name: "Changes from v1 to v2" });
    expect(within(diff).getByText("parameters.temperature")).toBeTruthy();
    expect(within(diff).getByText("(none)")).toBeTruthy();
    expect(diff.querySelector(".diff-add")?.textContent).toContain("+Be very brief.");
    expect(diff.querySelector(".diff-del")?.textContent).toContain("-Be brief.");

    fireEvent.click(within(table).getByRole("button", { name: "Publish version 1" }));
    const dialog = await screen.findByRole("dialog", { name: "Roll back to version 1" });
    expect(dialog.textContent).toContain("rollback");
    fireEvent.click(within(dialog).getByRole("button", { name: "Roll back to v1" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/prompts/7/publish")).toBe(true));
    expect(calls.find((c) => c.path === "/prompts/7/publish")!.body).toEqual({ version: 1 });
  });
});
