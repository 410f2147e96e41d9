// Shared logic of the access pages (services, consumers & keys, the
// subscription queue): the teams a user may pick, form state ↔ API bodies,
// client-side validation that mirrors admin/api, and small labels.
import { api } from "../api/client";
import type { Page, Service, Subscription, Team, UserWithTeams } from "../api/types";
import type { Errors } from "../components/ui";
import { useResource } from "./hooks";
import { session } from "./session";

// ---------------------------------------------------------------- teams

export interface TeamChoice {
  teams: Team[];
  loading: boolean;
  error?: Error;
  /** name of a team id, or "team #id" when it is not in the list. */
  name: (id: number) => string;
}

/**
 * useTeams lists the teams the signed-in user may pick: every team for an
 * admin (GET /teams), the user's own teams for a member (GET /me).
 */
export function useTeams(): TeamChoice {
  const admin = session.isAdmin;
  const r = useResource<Team[]>(
    (signal) =>
      admin
        ? api.get<Page<Team>>("/teams", { per_page: 200 }, signal).then((p) => p.data)
        : api.get<UserWithTeams>("/me", undefined, signal).then((u) => u.teams ?? []),
    [admin],
  );
  const teams = r.data ?? [];
  return { teams, loading: r.loading, error: r.error, name: (id) => teamName(teams, id) };
}

export function teamName(teams: Team[], id: number): string {
  return teams.find((t) => t.id === id)?.name ?? `team #${id}`;
}

// ---------------------------------------------------------------- services

export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const REDACT_RE = /^([A-Za-z0-9_-]+|#)(\.([A-Za-z0-9_-]+|#))*$/;
export const MAX_REDACT_FIELDS = 32;
export const MAX_RETENTION_DAYS = 3650;

/** The service form's state: numbers stay strings while being typed. */
export interface ServiceForm {
  name: string;
  slug: string;
  description: string;
  team_id: string;
  approval: "auto" | "manual";
  model_ids: number[];
  rpm: string;
  tpm: string;
  monthly_tokens: string;
  log_bodies: boolean;
  /** one path per line (commas also split). */
  redact_fields: string;
  log_retention_days: string;
}

/** serviceForm fills the form from a service, or with defaults for a new one. */
export function serviceForm(s?: Service | null, defaultTeam?: number): ServiceForm {
  const num = (n?: number) => (n ? String(n) : "");
  return {
    name: s?.name ?? "",
    slug: s?.slug ?? "",
    description: s?.description ?? "",
    team_id: s ? String(s.team_id) : defaultTeam ? String(defaultTeam) : "",
    approval: s?.approval ?? "manual",
    model_ids: s?.models?.map((m) => m.id) ?? [],
    rpm: num(s?.limits?.rpm),
    tpm: num(s?.limits?.tpm),
    monthly_tokens: num(s?.limits?.monthly_tokens),
    log_bodies: s?.log_bodies ?? false,
    redact_fields: (s?.redact_fields ?? []).join("\n"),
    log_retention_days: s?.log_retention_days ? String(s.log_retention_days) : "",
  };
}

/** slugify suggests a slug from a name: "Support Bot v2" → "support-bot-v2". */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

export function splitFields(text: string): string[] {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

/** parseCount reads a non-negative integer field; "" is 0 (unlimited). */
function parseCount(v: string): number | null {
  const t = v.trim();
  if (t === "") return 0;
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * validateService checks what admin/api/services.go checks, keyed by the
 * names the API reports in `param` so server errors land beside the same
 * fields.
 */
export function validateService(f: ServiceForm): Errors {
  const e: Errors = {};
  if (!f.name.trim()) e.name = "A service needs a name.";
  else if (f.name.trim().length > 200) e.name = "At most 200 characters.";
  if (!f.slug) e.slug = "A service needs a slug.";
  else if (!SLUG_RE.test(f.slug)) e.slug = "1 to 63 lower-case letters, digits and '-', starting with a letter or digit.";
  if (!f.team_id) e.team_id = "Pick the team that owns the service.";
  if (f.description.length > 10000) e.description = "At most 10,000 characters.";
  for (const k of ["rpm", "tpm", "monthly_tokens"] as const) {
    if (parseCount(f[k]) === null) e[`limits.${k}`] = "A whole number, 0 or more (empty = unlimited).";
  }
  const days = parseCount(f.log_retention_days);
  if (days === null || days > MAX_RETENTION_DAYS) e.log_retention_days = `A whole number of days from 0 (keep forever) to ${MAX_RETENTION_DAYS}.`;
  const fields = splitFields(f.redact_fields);
  const bad = fields.find((p) => p.length > 200 || !REDACT_RE.test(p));
  if (fields.length > MAX_REDACT_FIELDS) e.redact_fields = `At most ${MAX_REDACT_FIELDS} paths.`;
  else if (bad !== undefined) e.redact_fields = `"${bad}" is not a path: dot-separated keys, '#' for every array element (e.g. messages.#.content).`;
  return e;
}

/** The field names a service form shows errors beside. */
export const serviceFields = [
  "name", "slug", "description", "team_id", "approval", "model_ids",
  "limits.rpm", "limits.tpm", "limits.monthly_tokens", "limits",
  "log_bodies", "redact_fields", "log_retention_days",
];

/** serviceBody turns a valid form into the POST/PATCH /services body. */
export function serviceBody(f: ServiceForm) {
  return {
    name: f.name.trim(),
    slug: f.slug,
    description: f.description,
    team_id: Number(f.team_id),
    approval: f.approval,
    model_ids: f.model_ids,
    limits: { rpm: parseCount(f.rpm) ?? 0, tpm: parseCount(f.tpm) ?? 0, monthly_tokens: parseCount(f.monthly_tokens) ?? 0 },
    log_bodies: f.log_bodies,
    redact_fields: splitFields(f.redact_fields),
    log_retention_days: parseCount(f.log_retention_days) ?? 0,
  };
}

/** fmtLimit: 0 is unlimited. */
export function fmtLimit(n?: number): string {
  return n ? n.toLocaleString("en-US") : "∞";
}

/** limitsSummary: "60 rpm · 10,000 tpm · 1,000,000 tokens/month", or "Unlimited". */
export function limitsSummary(l?: { rpm?: number; tpm?: number; monthly_tokens?: number }): string {
  const parts: string[] = [];
  if (l?.rpm) parts.push(`${l.rpm.toLocaleString("en-US")} rpm`);
  if (l?.tpm) parts.push(`${l.tpm.toLocaleString("en-US")} tpm`);
  if (l?.monthly_tokens) parts.push(`${l.monthly_tokens.toLocaleString("en-US")} tokens/month`);
  return parts.length ? parts.join(" · ") : "Unlimited";
}

/** loggingSummary: what the call log keeps of a service's calls. */
export function loggingSummary(s: Pick<Service, "log_bodies" | "log_retention_days" | "redact_fields">): string {
  const what = s.log_bodies ? "Bodies" : "Metadata only";
  const redacted = s.log_bodies && s.redact_fields?.length ? `, ${s.redact_fields.length} redacted` : "";
  const keep = s.log_retention_days ? `${s.log_retention_days} d` : "kept forever";
  return `${what}${redacted} · ${keep}`;
}

// ---------------------------------------------------------------- keys

export interface KeyForm { name: string; expires: string }

/**
 * keyExpiry turns the optional expiry date (yyyy-mm-dd) into the end of
 * that day in local time, as RFC 3339; "" means the key does not expire.
 */
export function keyExpiry(date: string): string | null {
  if (!date) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return "invalid";
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
  if (isNaN(d.getTime()) || d.getDate() !== Number(m[3])) return "invalid";
  return d.toISOString();
}

export function validateKey(f: KeyForm, now = Date.now()): Errors {
  const e: Errors = {};
  if (!f.name.trim()) e.name = "A key needs a name (e.g. where it is used).";
  else if (f.name.trim().length > 200) e.name = "At most 200 characters.";
  const exp = keyExpiry(f.expires);
  if (exp === "invalid") e.expires_at = "Not a date.";
  else if (exp && Date.parse(exp) <= now) e.expires_at = "The expiry must be in the future.";
  return e;
}

export type KeyState = "active" | "revoked" | "expired";

export function keyState(k: { revoked_at?: string | null; expires_at?: string | null }, now = Date.now()): KeyState {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && Date.parse(k.expires_at) <= now) return "expired";
  return "active";
}

// ---------------------------------------------------------------- consumers

export interface ConsumerForm { name: string; description: string; team_id: string }

export function validateConsumer(f: ConsumerForm): Errors {
  const e: Errors = {};
  if (!f.name.trim()) e.name = "A consumer needs a name.";
  else if (f.name.trim().length > 200) e.name = "At most 200 characters.";
  if (f.description.length > 10000) e.description = "At most 10,000 characters.";
  if (!f.team_id) e.team_id = "Pick the team that owns the consumer.";
  return e;
}

// ---------------------------------------------------------------- subscriptions

export const statusTabs = [
  { id: "pending", label: "Pending" },
  { id: "approved", label: "Approved" },
  { id: "rejected", label: "Rejected" },
  { id: "revoked", label: "Revoked" },
  { id: "all", label: "All" },
] as const;

/** statusFilter reads ?status: pending when absent or unknown; "all" sends none. */
export function statusFilter(v?: string): { tab: string; query?: string } {
  const tab = statusTabs.some((t) => t.id === v) ? (v as string) : "pending";
  return { tab, query: tab === "all" ? undefined : tab };
}

/** decidedBy says who made a subscription's last decision. */
export function decidedBy(s: Pick<Subscription, "status" | "decided_by" | "decided_at">, users: Map<number, string>, meId?: number): string {
  if (s.status === "pending" || !s.decided_at) return "—";
  if (s.decided_by === null || s.decided_by === undefined) return "automatic";
  if (s.decided_by === meId) return "you";
  return users.get(s.decided_by) ?? `user #${s.decided_by}`;
}

/** canDecide: admins, and members of the service's team, decide. */
export function canDecide(s: Pick<Subscription, "service_team_id">, isAdmin: boolean, myTeams: number[]): boolean {
  return isAdmin || myTeams.includes(s.service_team_id);
}

/** validateReason: rejecting and revoking need a reason of at most 2000 characters. */
export function validateReason(reason: string): string | undefined {
  if (!reason.trim()) return "A reason is required: the consumer's team sees it.";
  if (reason.trim().length > 2000) return "At most 2000 characters.";
  return undefined;
}

/** mergeRows shows decided rows in place until the list is loaded again. */
export function mergeRows<T extends { id: number }>(rows: T[] | undefined, updated: Map<number, T>): T[] | undefined {
  return rows?.map((r) => updated.get(r.id) ?? r);
}
