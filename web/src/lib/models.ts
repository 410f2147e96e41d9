// Model page logic kept free of the UI so it can be tested: the traffic
// share of each target, form validation and the body sent to the API.
import { ApiError } from "../api/client";

/** A target row as the form edits it (numbers kept as typed). */
export interface TargetRow {
  provider_id: string;
  upstream_model: string;
  weight: string;
  priority: string;
}

export interface ModelForm {
  name: string;
  input_price: string;
  output_price: string;
  targets: TargetRow[];
}

export const modelNameRE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;
export const MAX_WEIGHT = 1_000_000;
export const MAX_PRIORITY = 1_000_000;
export const MAX_TARGETS = 50;

function intIn(v: string, lo: number, hi: number): number | undefined {
  const t = v.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= lo && n <= hi ? n : undefined;
}

export interface ShareTarget<T> {
  /** Index of the target in the list it came from. */
  index: number;
  target: T;
  weight: number;
  /** Share of its priority group's traffic, 0..1. */
  share: number;
}

export interface ShareGroup<T> {
  priority: number;
  targets: ShareTarget<T>[];
}

/**
 * shareGroups groups targets by priority, lowest (tried first) first, and
 * gives each its share of the group's traffic by weight. Targets whose
 * weight or priority is not valid yet are left out.
 */
export function shareGroups<T extends { weight: number | string; priority: number | string }>(targets: T[]): ShareGroup<T>[] {
  const groups = new Map<number, ShareTarget<T>[]>();
  targets.forEach((t, index) => {
    const w = typeof t.weight === "number" ? t.weight : intIn(t.weight, 1, MAX_WEIGHT);
    const p = typeof t.priority === "number" ? t.priority : t.priority.trim() === "" ? 0 : intIn(t.priority, 0, MAX_PRIORITY);
    if (w === undefined || p === undefined || w < 1) return;
    const g = groups.get(p) ?? [];
    g.push({ index, target: t, weight: w, share: 0 });
    groups.set(p, g);
  });
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([priority, ts]) => {
      const total = ts.reduce((s, t) => s + t.weight, 0);
      return { priority, targets: ts.map((t) => ({ ...t, share: t.weight / total })) };
    });
}

/** fmtShare: 0.75 → "75%", 1/3 → "33.3%". */
export function fmtShare(x: number): string {
  const pct = x * 100;
  return (Number.isInteger(Math.round(pct * 10) / 10) ? Math.round(pct).toString() : pct.toFixed(1)) + "%";
}

/** fmtPrice shows a price per million tokens: 2.5 → "$2.50", 0.075 → "$0.075". */
export function fmtPrice(usd?: number | null): string {
  if (usd === undefined || usd === null) return "—";
  if (usd === 0) return "$0";
  if (usd < 0.01) return "$" + Number(usd.toPrecision(3)).toString();
  const two = usd.toFixed(2);
  return "$" + (Number(two) === usd ? two : Number(usd.toFixed(4)).toString());
}

function checkPrice(v: string): string | undefined {
  const t = v.trim();
  if (!t) return undefined;
  const n = Number(t);
  if (!isFinite(n) || n < 0) return "A price in USD per million tokens, 0 or more.";
  if (n > 1_000_000) return "At most 1000000.";
  return undefined;
}

/**
 * validateModel checks the form before it is sent. Errors are keyed by the
 * API's names: name, input_price, output_price, targets and
 * targets[i].provider_id / upstream_model / weight / priority.
 */
export function validateModel(f: ModelForm): Record<string, string> {
  const e: Record<string, string> = {};
  const name = f.name.trim();
  if (!name) e.name = "A model needs a name, e.g. gpt-4o.";
  else if (!modelNameRE.test(name)) e.name = "1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit.";
  for (const k of ["input_price", "output_price"] as const) {
    const m = checkPrice(f[k]);
    if (m) e[k] = m;
  }
  if (f.targets.length === 0) e.targets = "Add at least one target: the provider and upstream model this model is routed to.";
  if (f.targets.length > MAX_TARGETS) e.targets = `At most ${MAX_TARGETS} targets.`;
  const seen = new Map<string, number>();
  f.targets.forEach((t, i) => {
    const at = (k: string) => `targets[${i}].${k}`;
    if (!t.provider_id) e[at("provider_id")] = "Choose a provider.";
    const up = t.upstream_model.trim();
    if (!up) e[at("upstream_model")] = "The model name the provider knows.";
    else if (up.length > 200) e[at("upstream_model")] = "At most 200 characters.";
    else if (t.provider_id) {
      const key = t.provider_id + "\u0000" + up;
      if (seen.has(key)) e[at("upstream_model")] = `Repeats target ${seen.get(key)! + 1} (same provider and upstream model).`;
      else seen.set(key, i);
    }
    if (intIn(t.weight, 1, MAX_WEIGHT) === undefined) e[at("weight")] = "A whole number from 1 to 1000000; to stop routing to a target, remove it (0 is not allowed).";
    if (t.priority.trim() !== "" && intIn(t.priority, 0, MAX_PRIORITY) === undefined) e[at("priority")] = "A whole number from 0 (tried first) to 1000000.";
  });
  return e;
}

/** modelBody is the POST/PATCH body of a valid form. */
export function modelBody(f: ModelForm): Record<string, unknown> {
  return {
    name: f.name.trim(),
    input_price: f.input_price.trim() ? Number(f.input_price) : 0,
    output_price: f.output_price.trim() ? Number(f.output_price) : 0,
    targets: f.targets.map((t) => ({
      provider_id: Number(t.provider_id),
      upstream_model: t.upstream_model.trim(),
      weight: Number(t.weight.trim()),
      priority: t.priority.trim() ? Number(t.priority.trim()) : 0,
    })),
  };
}

const modelFields = ["name", "input_price", "output_price", "targets"];

/**
 * modelApiErrors places the API's error beside its field: params such as
 * targets[0].weight go to that row's field; anything unknown is form-wide.
 */
export function modelApiErrors(err: unknown): Record<string, string> {
  const msg = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError) || !err.param) return { "": msg };
  const p = err.param;
  if (modelFields.includes(p)) return { [p]: msg };
  if (/^targets\[\d+\]\.(provider_id|upstream_model|weight|priority)$/.test(p)) return { [p]: msg };
  const row = /^targets\[(\d+)\]/.exec(p);
  if (row) return { [`targets[${row[1]}]`]: msg };
  return { "": msg };
}

/** move returns a copy of list with item i moved by delta (−1 up, +1 down). */
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (j < 0 || j >= list.length) return list;
  const out = list.slice();
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/**
 * remapRowErrors keeps row errors beside their rows after a reorder or a
 * removal: order maps new row index → old row index.
 */
export function remapRowErrors(errs: Record<string, string>, order: number[]): Record<string, string> {
  const out: Record<string, string> = {};
  const back = new Map(order.map((old, now) => [old, now]));
  for (const [k, v] of Object.entries(errs)) {
    const m = /^targets\[(\d+)\](.*)$/.exec(k);
    if (!m) {
      out[k] = v;
      continue;
    }
    const now = back.get(Number(m[1]));
    if (now !== undefined) out[`targets[${now}]${m[2]}`] = v;
  }
  return out;
}
