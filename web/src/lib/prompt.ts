// Pure helpers of the prompt editor: placeholders, the variables schema as
// editable rows and back, draft validation (the rules of prompts.Compile),
// test-run variables, diff lines, and the event stream of a test run.

/** A placeholder: {{name}}, spaces allowed inside (as prompts/template.go). */
const placeholderRE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** What a variable name may look like. */
export const nameRE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Role = "system" | "user" | "assistant" | "developer";
export const roles: Role[] = ["system", "user", "assistant", "developer"];
export interface Message { role: Role; content: string }

/** The chat parameters callers may override when a version lists none. */
export const defaultOverrides = ["max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "user", "stream_options"];

/** placeholders lists the distinct names text refers to, in order of first use. */
export function placeholders(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(placeholderRE)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

export interface Segment { text: string; name?: string }

/** segments splits text into plain runs and placeholders, for highlighting. */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(placeholderRE)) {
    const i = m.index ?? 0;
    if (i > last) out.push({ text: text.slice(last, i) });
    out.push({ text: m[0], name: m[1] });
    last = i + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

export type VarType = "string" | "number" | "integer" | "boolean";
export const varTypes: VarType[] = ["string", "number", "integer", "boolean"];

/** VarRow is one variable of the schema editor; extra keeps what the editor does not show (maxLength, enum…). */
export interface VarRow { name: string; type: VarType; required: boolean; description: string; extra: Record<string, unknown> }

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** schemaRows reads a variables schema ({type:"object",properties,required}) as rows. */
export function schemaRows(schema: unknown): VarRow[] {
  if (!isObj(schema) || !isObj(schema.properties)) return [];
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  return Object.entries(schema.properties).map(([name, p]) => {
    const prop = isObj(p) ? p : {};
    const { type, description, ...extra } = prop;
    const t = (Array.isArray(type) ? type.find((x) => x !== "null") : type) as string | undefined;
    return {
      name,
      type: varTypes.includes(t as VarType) ? (t as VarType) : "string",
      required: required.includes(name),
      description: typeof description === "string" ? description : "",
      extra,
    };
  });
}

/**
 * rowsSchema builds the variables schema from rows; base keeps the loaded
 * schema's other keywords (additionalProperties defaults to false, so a
 * caller cannot send variables the prompt does not declare).
 */
export function rowsSchema(rows: VarRow[], base?: unknown): Obj {
  const { properties: _p, required: _r, type: _t, ...rest } = isObj(base) ? base : ({} as Obj);
  const properties: Obj = {};
  for (const r of rows) {
    const name = r.name.trim();
    if (!name) continue;
    const p: Obj = { ...r.extra, type: r.type };
    if (r.description.trim()) p.description = r.description.trim();
    properties[name] = p;
  }
  const out: Obj = { type: "object", properties, additionalProperties: false, ...rest };
  const required = rows.filter((r) => r.required && r.name.trim()).map((r) => r.name.trim());
  if (required.length) out.required = required;
  return out;
}

/** Draft is the editor's state: what POST /prompts/{id}/versions takes, in form shape. */
export interface Draft {
  model: string;
  messages: Message[];
  vars: VarRow[];
  schemaBase?: unknown;
  temperature: string;
  maxTokens: string;
  topP: string;
  /** other parameters as JSON text (response_format, tools…) */
  otherParams: string;
  /** null keeps the default list (defaultOverrides) */
  overrides: string[] | null;
  note: string;
}

export interface VersionLike {
  model?: string;
  messages?: { role: Role; content: string }[];
  parameters?: unknown;
  variables_schema?: unknown;
  allowed_overrides?: string[] | null;
}

/** draftFrom starts a draft from a version (or blank). */
export function draftFrom(v?: VersionLike | null): Draft {
  const params: Obj = isObj(v?.parameters) ? { ...(v!.parameters as Obj) } : {};
  const take = (k: string) => {
    const x = params[k];
    delete params[k];
    return typeof x === "number" ? String(x) : "";
  };
  const temperature = take("temperature"), maxTokens = take("max_tokens"), topP = take("top_p");
  return {
    model: v?.model ?? "",
    messages: v?.messages?.length ? v.messages.map((m) => ({ role: m.role, content: m.content })) : [{ role: "system", content: "" }, { role: "user", content: "" }],
    vars: schemaRows(v?.variables_schema),
    schemaBase: v?.variables_schema,
    temperature, maxTokens, topP,
    otherParams: Object.keys(params).length ? JSON.stringify(params, null, 2) : "",
    overrides: v?.allowed_overrides ?? null,
    note: "",
  };
}

export type DraftErrors = Record<string, string>;

function numberField(errors: DraftErrors, key: string, label: string, text: string, min: number, max: number, integer = false): number | undefined {
  if (!text.trim()) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    errors[key] = `${label} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}.`;
    return undefined;
  }
  return n;
}

/**
 * checkDraft validates a draft as the API would and builds the request
 * body. Error keys are the API's param names (model, messages,
 * messages[i].content, variables_schema, parameters…) so the API's own
 * errors land in the same places.
 */
export function checkDraft(d: Draft): { errors: DraftErrors; body?: Obj } {
  const errors: DraftErrors = {};
  if (!d.model.trim()) errors.model = "Choose the model the prompt calls.";
  if (d.messages.length === 0) errors.messages = "A prompt needs at least one message.";
  const names = new Set<string>();
  d.vars.forEach((r, i) => {
    const n = r.name.trim();
    if (!n) errors[`vars[${i}].name`] = "Name the variable (or remove the row).";
    else if (!nameRE.test(n)) errors[`vars[${i}].name`] = "Use letters, digits and _, starting with a letter or _.";
    else if (names.has(n)) errors[`vars[${i}].name`] = `${n} is declared twice.`;
    names.add(n);
  });
  const undeclared: string[] = [];
  d.messages.forEach((m, i) => {
    if (!m.content.trim()) errors[`messages[${i}].content`] = "Write the message (or remove it).";
    const missing = placeholders(m.content).filter((p) => !names.has(p));
    if (missing.length) {
      errors[`messages[${i}].content`] = `Not declared as variables: ${missing.map((p) => `{{${p}}}`).join(", ")}.`;
      for (const p of missing) if (!undeclared.includes(p)) undeclared.push(p);
    }
  });
  if (undeclared.length && !errors.messages) {
    errors.messages = `Placeholders used but not declared: ${undeclared.map((p) => `{{${p}}}`).join(", ")}. Add them under Variables.`;
  }
  const parameters: Obj = {};
  if (d.otherParams.trim()) {
    try {
      const o = JSON.parse(d.otherParams);
      if (!isObj(o)) throw new Error();
      Object.assign(parameters, o);
      for (const k of ["model", "messages", "stream", "variables"]) if (k in o) errors.parameters = `"${k}" is set by the prompt itself; leave it out.`;
    } catch {
      errors.parameters = 'Other parameters must be a JSON object, e.g. {"response_format":{"type":"json_object"}}.';
    }
  }
  const t = numberField(errors, "parameters.temperature", "Temperature", d.temperature, 0, 2);
  const mt = numberField(errors, "parameters.max_tokens", "Max tokens", d.maxTokens, 1, 1_000_000, true);
  const tp = numberField(errors, "parameters.top_p", "Top p", d.topP, 0, 1);
  if (t !== undefined) parameters.temperature = t;
  if (mt !== undefined) parameters.max_tokens = mt;
  if (tp !== undefined) parameters.top_p = tp;
  if (d.note.length > 2000) errors.note = "The note is at most 2000 characters.";
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    body: {
      model: d.model.trim(),
      messages: d.messages,
      parameters,
      variables_schema: rowsSchema(d.vars, d.schemaBase),
      allowed_overrides: d.overrides,
      note: d.note.trim(),
    },
  };
}

/** errorKey maps an API error's param onto the editor's error keys. */
export function errorKey(param?: string): string {
  if (!param) return "";
  if (/^messages\[\d+\]\.content$/.test(param) || param === "model" || param === "note" || param === "allowed_overrides") return param;
  if (param.startsWith("messages")) return "messages";
  if (param.startsWith("variables_schema")) return "variables_schema";
  if (param.startsWith("parameters.")) {
    const k = param.slice("parameters.".length);
    return ["temperature", "max_tokens", "top_p"].includes(k) ? param : "parameters";
  }
  if (param === "parameters") return "parameters";
  return "";
}

/**
 * testVariables turns the test-run form's text values into typed
 * variables; empty optional values are left out.
 */
export function testVariables(rows: VarRow[], values: Record<string, string>): { vars: Obj; errors: Record<string, string> } {
  const vars: Obj = {};
  const errors: Record<string, string> = {};
  for (const r of rows) {
    const v = values[r.name] ?? "";
    if (r.type === "boolean") {
      vars[r.name] = v === "true";
      continue;
    }
    if (v === "") {
      if (r.required) errors[r.name] = `${r.name} is required.`;
      continue;
    }
    if (r.type === "string") vars[r.name] = v;
    else {
      const n = Number(v);
      if (!Number.isFinite(n) || (r.type === "integer" && !Number.isInteger(n))) errors[r.name] = `${r.name} must be ${r.type === "integer" ? "a whole number" : "a number"}.`;
      else vars[r.name] = n;
    }
  }
  return { vars, errors };
}

export type DiffLineKind = "add" | "del" | "hunk" | "ctx";

/** diffLines classifies the lines of a unified diff for colouring. */
export function diffLines(text: string): { kind: DiffLineKind; text: string }[] {
  if (!text) return [];
  let inHunk = false;
  return text.replace(/\n$/, "").split("\n").map((line) => {
    if (line.startsWith("@@")) {
      inHunk = true;
      return { kind: "hunk" as const, text: line };
    }
    // the ---/+++ file header comes before the first hunk
    if (!inHunk && (line.startsWith("--- ") || line.startsWith("+++ "))) return { kind: "hunk" as const, text: line };
    if (line.startsWith("+")) return { kind: "add" as const, text: line };
    if (line.startsWith("-")) return { kind: "del" as const, text: line };
    return { kind: "ctx" as const, text: line };
  });
}

/** showValue renders a diff change's value: absent, a string as is, JSON otherwise. */
export function showValue(v: unknown, present: boolean): string {
  if (!present) return "(none)";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export interface SSEEvent { event: string; data: string }

/**
 * SSEParser splits a text/event-stream into events as chunks arrive; an
 * event is complete at a blank line. Chunks may cut anywhere.
 */
export class SSEParser {
  private buf = "";
  private cr = false; // a chunk ended in "\r": it may be half of "\r\n"

  push(chunk: string): SSEEvent[] {
    let s = (this.cr ? "\r" : "") + chunk;
    this.cr = s.endsWith("\r");
    if (this.cr) s = s.slice(0, -1);
    this.buf += s.replace(/\r\n?/g, "\n");
    const out: SSEEvent[] = [];
    let i: number;
    while ((i = this.buf.indexOf("\n\n")) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const c = line.indexOf(":");
        const field = c < 0 ? line : line.slice(0, c);
        let value = c < 0 ? "" : line.slice(c + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) out.push({ event, data: data.join("\n") });
    }
    return out;
  }
}

/** readEvents reads a Response's event stream, calling onEvent for each. */
export async function readEvents(res: Response, onEvent: (e: SSEEvent) => void): Promise<void> {
  if (!res.body) {
    for (const e of new SSEParser().push((await res.text()) + "\n\n")) onEvent(e);
    return;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  const p = new SSEParser();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const e of p.push(dec.decode(value, { stream: true }))) onEvent(e);
  }
  for (const e of p.push(dec.decode() + "\n\n")) onEvent(e);
}

/** dataPlaneURL is where callers POST a published prompt. */
export function dataPlaneURL(slug: string, origin = typeof window !== "undefined" ? window.location.origin : ""): string {
  return `${origin}/v1/prompts/${slug}`;
}

export const slugRE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** slugify suggests a slug from a name. */
export function slugify(name: string): string {
  return name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
}
