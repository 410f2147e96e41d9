// Provider page logic kept free of the UI so it can be tested: what each
// kind needs (hints, default base URLs, settings keys), health from the
// circuit breakers, key/value row editing and form validation.
import { ApiError } from "../api/client";
import type { Breaker, ProviderKind } from "../api/types";

export interface KindInfo {
  /** The kind's default base URL; undefined when base_url is required. */
  defaultBaseURL?: string;
  /** One-line help shown under the kind select. */
  hint: string;
  /** Settings keys the kind reads, with what they do. */
  settings: { key: string; hint: string }[];
  /** Whether the connection test can list models (else it needs a model). */
  canList: boolean;
}

export const kindInfo: Record<ProviderKind, KindInfo> = {
  openai: { defaultBaseURL: "https://api.openai.com/v1", hint: "OpenAI's API.", settings: [], canList: true },
  azure: {
    hint: "Azure OpenAI: the base URL is the resource endpoint (https://NAME.openai.azure.com); requests go to its deployments with an api-version.",
    settings: [
      { key: "deployment", hint: "the Azure deployment; empty sends each request to the deployment named like its model" },
      { key: "api_version", hint: "api-version query parameter (default 2024-10-21)" },
    ],
    canList: true,
  },
  anthropic: {
    defaultBaseURL: "https://api.anthropic.com",
    hint: "Anthropic's Messages API. It cannot list models: test it with a model name.",
    settings: [
      { key: "anthropic_version", hint: "anthropic-version header (default 2023-06-01)" },
      { key: "default_max_tokens", hint: "max tokens when a request sets none (default 4096)" },
      { key: "structured_output", hint: "native or tool" },
    ],
    canList: false,
  },
  gemini: {
    defaultBaseURL: "https://generativelanguage.googleapis.com",
    hint: "Google Gemini (Generative Language API).",
    settings: [{ key: "api_version", hint: "API version path segment (default v1beta)" }],
    canList: true,
  },
  "openai-compatible": { hint: "Any OpenAI-compatible server: give its base URL including the version segment (…/v1).", settings: [], canList: true },
  mistral: { defaultBaseURL: "https://api.mistral.ai/v1", hint: "Mistral preset.", settings: [], canList: true },
  groq: { defaultBaseURL: "https://api.groq.com/openai/v1", hint: "Groq preset.", settings: [], canList: true },
  deepseek: { defaultBaseURL: "https://api.deepseek.com/v1", hint: "DeepSeek preset.", settings: [], canList: true },
  together: { defaultBaseURL: "https://api.together.xyz/v1", hint: "Together AI preset.", settings: [], canList: true },
  openrouter: { defaultBaseURL: "https://openrouter.ai/api/v1", hint: "OpenRouter preset.", settings: [], canList: true },
  xai: { defaultBaseURL: "https://api.x.ai/v1", hint: "xAI preset.", settings: [], canList: true },
  ollama: { defaultBaseURL: "http://localhost:11434/v1", hint: "Local Ollama server; usually needs no API key.", settings: [], canList: true },
  vllm: { defaultBaseURL: "http://localhost:8000/v1", hint: "vLLM's OpenAI-compatible server.", settings: [], canList: true },
};

export function infoOf(kind: string): KindInfo | undefined {
  return (kindInfo as Record<string, KindInfo>)[kind];
}

/** baseURLRequired: kinds without a default base URL. */
export function baseURLRequired(kind: string): boolean {
  const i = infoOf(kind);
  return !!i && !i.defaultBaseURL;
}

// ---------------------------------------------------------------- health

export type BreakerStateName = "closed" | "open" | "half-open";

export interface Health {
  /** Worst state among the provider's targets; undefined with no targets seen. */
  state?: BreakerStateName;
  /** Targets (upstream models) the breakers know for this provider. */
  targets: Breaker[];
  /** Consecutive failures of the worst target. */
  failures: number;
  /** When the worst target's breaker opened ("" if closed). */
  openedAt: string;
}

const rank: Record<string, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * ownerOf finds the provider a breaker's target id ("provider/upstream
 * model") belongs to. Upstream models may hold slashes, and so may names,
 * so the longest provider name that prefixes the id wins.
 */
export function ownerOf(targetID: string, names: string[]): string | undefined {
  let best: string | undefined;
  for (const n of names) {
    if (targetID.startsWith(n + "/") && (!best || n.length > best.length)) best = n;
  }
  return best;
}

/** healthByProvider groups the breakers by provider name and keeps the worst. */
export function healthByProvider(breakers: Breaker[], names: string[]): Map<string, Health> {
  const out = new Map<string, Health>();
  for (const b of breakers) {
    const owner = ownerOf(b.target_id, names);
    if (!owner) continue;
    let h = out.get(owner);
    if (!h) {
      h = { targets: [], failures: 0, openedAt: "" };
      out.set(owner, h);
    }
    h.targets.push(b);
    const worse = h.state === undefined || (rank[b.state] ?? 0) > (rank[h.state] ?? 0)
      || ((rank[b.state] ?? 0) === (rank[h.state] ?? 0) && (b.consecutive_failures ?? 0) > h.failures);
    if (worse) {
      h.state = b.state as BreakerStateName;
      h.failures = b.consecutive_failures ?? 0;
      h.openedAt = b.state === "closed" ? "" : b.opened_at ?? "";
    }
  }
  return out;
}

// ---------------------------------------------------------- key/value rows

export interface KV { key: string; value: string }

export function rowsOf(m?: Record<string, string> | null): KV[] {
  return Object.entries(m ?? {}).map(([key, value]) => ({ key, value }));
}

/** mapOf turns rows into a map; rows with neither key nor value are dropped. */
export function mapOf(rows: KV[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const r of rows) {
    const k = r.key.trim();
    if (!k && !r.value) continue;
    m[k] = r.value;
  }
  return m;
}

export const settingKeyRE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const headerNameRE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/**
 * checkRows validates key/value rows: each error is keyed
 * `${field}.${index}` (row) or `${field}` (the whole editor).
 */
export function checkRows(field: "settings" | "headers", rows: KV[]): Record<string, string> {
  const errs: Record<string, string> = {};
  const seen = new Map<string, number>();
  const used = rows.filter((r) => r.key.trim() || r.value);
  if (used.length > 50) errs[field] = `At most 50 ${field}.`;
  rows.forEach((r, i) => {
    const k = r.key.trim();
    if (!k && !r.value) return;
    const at = `${field}.${i}`;
    const norm = field === "headers" ? k.toLowerCase() : k;
    if (!k) errs[at] = field === "settings" ? "Give the setting a name." : "Give the header a name.";
    else if (field === "settings" && !settingKeyRE.test(k)) errs[at] = "Setting names are 1 to 100 letters, digits and . _ - (starting with a letter or digit).";
    else if (field === "headers" && !headerNameRE.test(k)) errs[at] = "Not a valid HTTP header name.";
    else if (seen.has(norm)) errs[at] = `Repeats row ${seen.get(norm)! + 1}.`;
    else if (field === "headers" && /[\r\n\0]/.test(r.value)) errs[at] = "A header value must be one line.";
    else if (r.value.length > 4096) errs[at] = "At most 4096 characters.";
    if (k && !seen.has(norm)) seen.set(norm, i);
  });
  return errs;
}

// ----------------------------------------------------------------- form

export interface ProviderForm {
  name: string;
  kind: string;
  base_url: string;
  api_key: string;
  remove_key: boolean;
  settings: KV[];
  headers: KV[];
  timeout_ms: string;
  enabled: boolean;
}

export const MAX_TIMEOUT_MS = 3_600_000;

export function isHTTPURL(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && !!u.host;
  } catch {
    return false;
  }
}

/** validateProvider checks the form before it is sent; {} when fine. */
export function validateProvider(f: ProviderForm): Record<string, string> {
  const e: Record<string, string> = {};
  const name = f.name.trim();
  if (!name) e.name = "A provider needs a name.";
  else if (name.length > 100) e.name = "At most 100 characters.";
  if (!infoOf(f.kind)) e.kind = "Choose a kind.";
  const base = f.base_url.trim();
  if (base && !isHTTPURL(base)) e.base_url = "An http:// or https:// URL such as https://api.openai.com/v1, or empty for the kind's default.";
  else if (!base && baseURLRequired(f.kind)) e.base_url = `A base URL is required for ${f.kind}: it has no default.`;
  if (f.api_key.length > 32 << 10) e.api_key = "At most 32 KiB.";
  const t = f.timeout_ms.trim();
  if (t && (!/^\d+$/.test(t) || Number(t) > MAX_TIMEOUT_MS)) e.timeout_ms = "Whole milliseconds from 0 (no bound of its own) to 3600000 (one hour).";
  Object.assign(e, checkRows("settings", f.settings), checkRows("headers", f.headers));
  return e;
}

/** providerBody is the POST (create) or PATCH (edit) body of the form. */
export function providerBody(f: ProviderForm, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: f.name.trim(),
    kind: f.kind,
    base_url: f.base_url.trim(),
    settings: mapOf(f.settings),
    headers: mapOf(f.headers),
    timeout_ms: f.timeout_ms.trim() ? Number(f.timeout_ms.trim()) : 0,
    enabled: f.enabled,
  };
  if (editing && f.remove_key) body.api_key = "";
  else if (f.api_key.trim()) body.api_key = f.api_key.trim();
  return body;
}

/**
 * apiFieldErrors places the API's error beside the field it names: a
 * plain field, or the key/value row a param like settings.deployment or
 * headers.X-Team names; anything else is a form-wide error ("").
 */
export function apiFieldErrors(err: unknown, f: Pick<ProviderForm, "settings" | "headers">): Record<string, string> {
  const msg = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError) || !err.param) return { "": msg };
  const p = err.param;
  if (["name", "kind", "base_url", "api_key", "timeout_ms", "enabled", "settings", "headers"].includes(p)) return { [p]: msg };
  for (const field of ["settings", "headers"] as const) {
    if (p.startsWith(field + ".")) {
      const key = p.slice(field.length + 1);
      const i = f[field].findIndex((r) => r.key.trim() === key || (field === "headers" && r.key.trim().toLowerCase() === key.toLowerCase()));
      return { [i >= 0 ? `${field}.${i}` : field]: msg };
    }
  }
  return { "": msg };
}
