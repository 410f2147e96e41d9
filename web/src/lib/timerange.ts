// Time ranges of the dashboard, analytics and call log: a preset (the last
// hour … the last 30 days) or a custom since/until, kept in the URL as
// ?range=24h or ?since=…&until=… (RFC 3339), and the bucket size of charts
// (minute, hour or day; chosen from the span unless ?bucket= says).

import { useMemo, useState } from "preact/hooks";

export type Bucket = "minute" | "hour" | "day";
export type PresetId = "1h" | "6h" | "24h" | "7d" | "30d";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const PRESETS: { id: PresetId; label: string; ms: number }[] = [
  { id: "1h", label: "Last hour", ms: HOUR },
  { id: "6h", label: "Last 6 hours", ms: 6 * HOUR },
  { id: "24h", label: "Last 24 hours", ms: DAY },
  { id: "7d", label: "Last 7 days", ms: 7 * DAY },
  { id: "30d", label: "Last 30 days", ms: 30 * DAY },
];

export const BUCKET_MS: Record<Bucket, number> = { minute: MIN, hour: HOUR, day: DAY };
export const BUCKETS: Bucket[] = ["minute", "hour", "day"];

/** The server refuses more buckets than this in one query (a week of minutes). */
export const MAX_BUCKETS = 7 * 24 * 60;
/** Auto bucket choice aims at no more than this many points per chart. */
const TARGET_POINTS = 400;

export interface RangeParams {
  range?: string;
  since?: string;
  until?: string;
  bucket?: string;
}

export interface TimeRange {
  /** A preset id, "custom", or "all" (no bound: only when allowed). */
  preset: PresetId | "custom" | "all";
  since?: Date;
  until?: Date;
  /** Human description, e.g. "Last 24 hours". */
  label: string;
  /** Why a custom range was not usable (shown beside the inputs). */
  error?: string;
}

function parseTime(s?: string): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return isNaN(d.getTime()) ? undefined : d;
}

/**
 * resolveRange reads the range from URL parameters at time `now`. A
 * custom since/until wins over ?range; an unknown or missing range gives
 * `fallback` (a preset, or "all" for no bound).
 */
export function resolveRange(p: RangeParams, now: number, fallback: PresetId | "all" = "24h"): TimeRange {
  if (p.since || p.until) {
    const since = parseTime(p.since);
    const until = parseTime(p.until);
    if ((p.since && !since) || (p.until && !until)) {
      return { ...presetRange(fallback, now), error: "That time is not valid." };
    }
    if (since && until && since.getTime() >= until.getTime()) {
      return { ...presetRange(fallback, now), error: "The start must be before the end." };
    }
    return { preset: "custom", since, until, label: customLabel(since, until) };
  }
  const preset = PRESETS.find((x) => x.id === p.range);
  return presetRange(preset ? preset.id : fallback, now);
}

function presetRange(id: PresetId | "all", now: number): TimeRange {
  if (id === "all") return { preset: "all", label: "Any time" };
  const p = PRESETS.find((x) => x.id === id)!;
  return { preset: id, since: new Date(now - p.ms), until: new Date(now), label: p.label };
}

function customLabel(since?: Date, until?: Date): string {
  const f = (d: Date) => d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  if (since && until) return `${f(since)} – ${f(until)}`;
  if (since) return `Since ${f(since)}`;
  return `Until ${f(until!)}`;
}

/** spanMs is the length of a range; an open start counts from `defaultSpan` before its end. */
export function spanMs(r: TimeRange, now: number, defaultSpan = DAY): number {
  const until = r.until?.getTime() ?? now;
  const since = r.since?.getTime() ?? until - defaultSpan;
  return Math.max(0, until - since);
}

/** allowedBuckets are the bucket sizes the server accepts for a span. */
export function allowedBuckets(span: number): Bucket[] {
  return BUCKETS.filter((b) => Math.ceil(span / BUCKET_MS[b]) <= MAX_BUCKETS);
}

/**
 * chooseBucket picks the finest bucket giving at most ~400 points (1 h and
 * 6 h by minute, 24 h and 7 d by hour, 30 d by day), or the one asked for
 * when the server would accept it.
 */
export function chooseBucket(span: number, asked?: string): Bucket {
  const ok = allowedBuckets(span);
  if (asked && (ok as string[]).includes(asked)) return asked as Bucket;
  for (const b of BUCKETS) {
    if (span / BUCKET_MS[b] <= TARGET_POINTS) return b;
  }
  return "day";
}

/** rangeQuery is the since/until/bucket of an analytics request. */
export function rangeQuery(r: TimeRange, now: number, askedBucket?: string): { since?: string; until?: string; bucket: Bucket } {
  const until = r.until ?? new Date(now);
  const since = r.since ?? new Date(until.getTime() - DAY);
  return { since: since.toISOString(), until: until.toISOString(), bucket: chooseBucket(until.getTime() - since.getTime(), askedBucket) };
}

/** truncate rounds a time down to its bucket's start (UTC, like the server). */
export function truncate(ms: number, bucket: Bucket): number {
  const size = BUCKET_MS[bucket];
  return Math.floor(ms / size) * size;
}

/**
 * bucketStarts lists every bucket start from since to until (exclusive),
 * so that charts show empty buckets as zero instead of joining the dots.
 */
export function bucketStarts(sinceIso: string, untilIso: string, bucket: Bucket): number[] {
  const since = Date.parse(sinceIso);
  const until = Date.parse(untilIso);
  if (isNaN(since) || isNaN(until) || until <= since) return [];
  const size = BUCKET_MS[bucket];
  const out: number[] = [];
  for (let t = truncate(since, bucket); t < until && out.length <= MAX_BUCKETS; t += size) out.push(t);
  return out;
}

/**
 * fillBuckets places points (by their bucket_start) on the bucket grid:
 * value(point) where a point exists, `empty` elsewhere. Points outside the
 * grid are ignored; two points in one bucket are summed.
 */
export function fillBuckets<P extends { bucket_start: string }>(
  times: number[],
  points: P[],
  value: (p: P) => number,
  empty: number | null = 0,
): (number | null)[] {
  const index = new Map<number, number>();
  times.forEach((t, i) => index.set(t, i));
  const out: (number | null)[] = times.map(() => empty);
  for (const p of points) {
    const i = index.get(Date.parse(p.bucket_start));
    if (i === undefined) continue;
    const v = value(p);
    out[i] = (out[i] ?? 0) + v;
  }
  return out;
}

/** toLocalInput turns an ISO time into a datetime-local input's value. */
export function toLocalInput(iso?: string): string {
  const d = parseTime(iso);
  if (!d) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalInput turns a datetime-local value (local time) into ISO, "" when empty or invalid. */
export function fromLocalInput(v: string): string {
  if (!v) return "";
  const d = new Date(v);
  return isNaN(d.getTime()) ? "" : d.toISOString();
}

/**
 * useNow is the "now" preset ranges end at: taken again whenever `key`
 * changes (the URL's query: another range or filter) or refresh() is
 * called, and stable in between so that loads are not repeated.
 */
export function useNow(key: string): [number, () => void] {
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const now = useMemo(() => Date.now(), [key, tick]);
  return [now, () => setTick((t) => t + 1)];
}
