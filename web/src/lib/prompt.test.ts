import { describe, expect, it } from "vitest";
import {
  checkDraft, diffLines, draftFrom, errorKey, placeholders, rowsSchema, schemaRows, segments, slugify, SSEParser, testVariables,
} from "./prompt";

describe("placeholders", () => {
  it("finds distinct names in order, spaces allowed inside the braces", () => {
    expect(placeholders("Hi {{name}}, {{ topic }} and {{name}} again; {{1bad}} {x}")).toEqual(["name", "topic"]);
  });
  it("splits text into plain runs and placeholders", () => {
    expect(segments("a {{x}}b{{ y }}")).toEqual([{ text: "a " }, { text: "{{x}}", name: "x" }, { text: "b" }, { text: "{{ y }}", name: "y" }]);
    expect(segments("")).toEqual([]);
  });
});

describe("variables schema", () => {
  const schema = {
    type: "object",
    properties: { text: { type: "string", maxLength: 20, description: "what to summarize" }, n: { type: "integer" } },
    required: ["text"],
    additionalProperties: false,
  };
  it("reads rows and writes the same schema back, keeping keywords the editor does not show", () => {
    const rows = schemaRows(schema);
    expect(rows).toEqual([
      { name: "text", type: "string", required: true, description: "what to summarize", extra: { maxLength: 20 } },
      { name: "n", type: "integer", required: false, description: "", extra: {} },
    ]);
    expect(rowsSchema(rows, schema)).toEqual(schema);
  });
  it("builds a closed object schema from new rows", () => {
    expect(rowsSchema([{ name: " topic ", type: "boolean", required: false, description: "", extra: {} }])).toEqual({
      type: "object", properties: { topic: { type: "boolean" } }, additionalProperties: false,
    });
    expect(schemaRows(null)).toEqual([]);
  });
});

describe("checkDraft", () => {
  const base = () => draftFrom({
    model: "gpt-4o",
    messages: [{ role: "user", content: "Summarize {{text}}" }],
    variables_schema: { type: "object", properties: { text: { type: "string" } } },
    parameters: { temperature: 0.2, response_format: { type: "json_object" } },
    allowed_overrides: null,
  });
  it("builds the version body", () => {
    const d = base();
    expect(d.temperature).toBe("0.2");
    const { errors, body } = checkDraft({ ...d, maxTokens: "100", note: " tweak " });
    expect(errors).toEqual({});
    expect(body).toMatchObject({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Summarize {{text}}" }],
      parameters: { temperature: 0.2, max_tokens: 100, response_format: { type: "json_object" } },
      variables_schema: { type: "object", properties: { text: { type: "string" } } },
      note: "tweak",
    });
    // no list of its own stays so (the API's default), an explicit one is kept
    expect((body as { allowed_overrides: unknown }).allowed_overrides).toBeNull();
    expect(checkDraft({ ...d, overrides: ["seed"] }).body!.allowed_overrides).toEqual(["seed"]);
  });
  it("refuses placeholders that are not declared, beside the message and the list", () => {
    const d = base();
    d.messages = [{ role: "system", content: "ok" }, { role: "user", content: "{{text}} {{secret}}" }];
    const { errors, body } = checkDraft(d);
    expect(body).toBeUndefined();
    expect(errors["messages[1].content"]).toContain("{{secret}}");
    expect(errors.messages).toContain("{{secret}}");
    expect(errors["messages[0].content"]).toBeUndefined();
  });
  it("checks model, variable names, numbers and the other parameters", () => {
    const d = base();
    d.model = "";
    d.vars = [...d.vars, { name: "9x", type: "string", required: false, description: "", extra: {} }, { name: "text", type: "string", required: false, description: "", extra: {} }];
    d.temperature = "3";
    d.maxTokens = "1.5";
    d.otherParams = "[1]";
    const { errors } = checkDraft(d);
    expect(Object.keys(errors).sort()).toEqual(["model", "parameters", "parameters.max_tokens", "parameters.temperature", "vars[1].name", "vars[2].name"]);
    expect(checkDraft({ ...base(), otherParams: '{"stream":true}' }).errors.parameters).toContain("stream");
  });
  it("maps the API's params onto the editor's fields", () => {
    expect(errorKey("messages[2].content")).toBe("messages[2].content");
    expect(errorKey("messages[0].role")).toBe("messages");
    expect(errorKey("variables_schema")).toBe("variables_schema");
    expect(errorKey("parameters.temperature")).toBe("parameters.temperature");
    expect(errorKey("parameters.response_format")).toBe("parameters");
    expect(errorKey("model")).toBe("model");
    expect(errorKey(undefined)).toBe("");
  });
});

describe("test variables", () => {
  const rows = schemaRows({ properties: { s: { type: "string" }, i: { type: "integer" }, b: { type: "boolean" }, o: { type: "number" } }, required: ["s", "i"] });
  it("types the values and leaves empty optional ones out", () => {
    expect(testVariables(rows, { s: "hi", i: "3", b: "true", o: "" })).toEqual({ vars: { s: "hi", i: 3, b: true }, errors: {} });
  });
  it("names what is missing or not a number", () => {
    const { errors } = testVariables(rows, { s: "", i: "2.5", o: "x" });
    expect(Object.keys(errors).sort()).toEqual(["i", "o", "s"]);
  });
});

describe("diffLines", () => {
  it("classifies header, hunk, added, removed and context lines", () => {
    const d = "--- version 1\n+++ version 2\n@@ -1,3 +1,3 @@\n ## system\n-Be brief.\n+Be very brief.\n--- not a header\n";
    expect(diffLines(d).map((l) => l.kind)).toEqual(["hunk", "hunk", "hunk", "ctx", "del", "add", "del"]);
    expect(diffLines("")).toEqual([]);
  });
});

describe("SSEParser", () => {
  it("yields events whatever the chunking", () => {
    const text = 'event: start\ndata: {"version":1}\n\n: keep-alive\n\nevent: delta\ndata: {"content":"Hel"}\n\nevent: delta\r\ndata: {"content":"lo"}\r\n\r\nevent: summary\ndata: {"status":200}\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const p = new SSEParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
      expect(got).toEqual([
        { event: "start", data: '{"version":1}' },
        { event: "delta", data: '{"content":"Hel"}' },
        { event: "delta", data: '{"content":"lo"}' },
        { event: "summary", data: '{"status":200}' },
      ]);
    }
  });
});

it("slugify suggests a slug", () => {
  expect(slugify("  Summarize Ticket #2! ")).toBe("summarize-ticket-2");
});
