// Charts over time (a small uPlot wrapper that follows its container's
// width, with a live legend and a hover tooltip) and the time-range picker
// the dashboard, analytics and call log share.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "../pages/dashboard.css";
import {
  allowedBuckets, BUCKETS, fromLocalInput, PRESETS, resolveRange, spanMs, toLocalInput,
  type PresetId,
} from "../lib/timerange";
import { Button } from "./ui";

export interface ChartSeries {
  label: string;
  color: string;
  /** One value per time; null leaves a gap. */
  values: (number | null)[];
  /** Fill under the line (for counts; not for latencies). */
  fill?: boolean;
}

/** Colours of series, in order; colour-blind friendly (Okabe–Ito-like). */
export const PALETTE = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#6b7280"];

/**
 * describeSeries is the chart's text alternative: per series its total (or
 * peak, for rates) so a screen reader hears what the picture shows.
 */
export function describeSeries(title: string, series: ChartSeries[], fmt: (v: number) => string, summary: "sum" | "max" = "sum"): string {
  const parts = series.map((s) => {
    const vals = s.values.filter((v): v is number => v !== null && !isNaN(v));
    if (vals.length === 0) return `${s.label}: no data`;
    const v = summary === "sum" ? vals.reduce((a, b) => a + b, 0) : Math.max(...vals);
    return `${s.label} ${summary === "sum" ? "total" : "peak"} ${fmt(v)}`;
  });
  return `${title} over time. ${parts.join("; ")}.`;
}

/** Tick steps for counts: 1, 2, 5, 10, 20, 50 … up to 5e12. */
export const INTEGER_INCRS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

export function Chart(props: {
  title: string;
  /** Bucket start times, ms since the epoch. */
  times: number[];
  series: ChartSeries[];
  format?: (v: number) => string;
  /** How the text alternative summarises: totals (counts) or peaks (latencies). */
  summary?: "sum" | "max";
  height?: number;
  /** Shown instead of the plot when there is nothing to draw. */
  empty?: string | false;
  /** Counts: the y axis ticks only at whole numbers (no "1, 1, 0" from 0.5 rounded). */
  integer?: boolean;
}) {
  const id = useId();
  const fmt = props.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  const height = props.height ?? 200;
  const wrap = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const fmtRef = useRef(fmt);
  fmtRef.current = fmt;
  const shape = props.series.map((s) => `${s.label}|${s.color}|${s.fill ? 1 : 0}|${hasGaps(s) ? 1 : 0}`).join(";") + "|" + height;
  const data: uPlot.AlignedData = [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)];
  const isEmpty = !!props.empty;
  const label = describeSeries(props.title, props.series, fmt, props.summary);
  const labelRef = useRef(label);
  labelRef.current = label;

  // (Re)create the plot when its series change shape; otherwise only its data.
  useEffect(() => {
    const el = wrap.current;
    if (!el || isEmpty) return;
    const tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.setAttribute("aria-hidden", "true");
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth || 600),
      height,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: "Time" },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.fill ? s.color + "1f" : undefined,
          spanGaps: false,
          // Zero-filled counts need only their line; series with gaps (percentiles) need dots.
          points: { show: hasGaps(s), size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? "—" : fmtRef.current(v)),
        })),
      ],
      axes: [
        { stroke: "#616e7c", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#dde2e8" } },
        { stroke: "#616e7c", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#dde2e8" }, values: (_u, vals) => vals.map((v) => fmtRef.current(v)),
          ...(props.integer ? { incrs: INTEGER_INCRS } : {}),
          size: (_u, values) => Math.max(40, ...(values ?? []).map((v) => String(v).length * 7 + 18)) },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        init: [(u) => { u.over.appendChild(tip); }],
        setCursor: [(u) => {
          const i = u.cursor.idx;
          if (i === null || i === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
            tip.style.display = "none";
            return;
          }
          const t = new Date((u.data[0][i] as number) * 1000);
          const rows = u.series.slice(1).map((s, k) => {
            const v = u.data[k + 1][i];
            return `<div><span class="chart-tip-dot" style="background:${String(s.stroke)}"></span>${escapeHtml(String(s.label))}: <b>${v === null || v === undefined ? "—" : escapeHtml(fmtRef.current(v))}</b></div>`;
          });
          tip.innerHTML = `<div class="chart-tip-time">${escapeHtml(t.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }))}</div>${rows.join("")}`;
          tip.style.display = "block";
          const w = u.over.clientWidth;
          const left = u.cursor.left;
          tip.style.left = left > w / 2 ? "" : `${left + 12}px`;
          tip.style.right = left > w / 2 ? `${w - left + 12}px` : "";
          tip.style.top = "4px";
        }],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    u.ctx?.canvas?.setAttribute("role", "img");
    u.ctx?.canvas?.setAttribute("aria-label", labelRef.current);
    let ro: ResizeObserver | undefined;
    if (typeof ResizeObserver !== "undefined") {
      ro = new ResizeObserver(() => {
        const w = el.clientWidth;
        if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
      });
      ro.observe(el);
    }
    return () => {
      ro?.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, isEmpty]);

  useEffect(() => {
    plot.current?.setData(data);
    plot.current?.ctx?.canvas?.setAttribute("aria-label", label);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.times, props.series]);

  return (
    <figure class="chart card" aria-labelledby={id}>
      <figcaption><h2 id={id} class="chart-title">{props.title}</h2></figcaption>
      {isEmpty ? (
        <div class="chart-empty" style={{ height: `${height}px` }}>{props.empty}</div>
      ) : (
        <div class="chart-plot" ref={wrap} data-testid="chart" data-label={label} />
      )}
    </figure>
  );
}

function hasGaps(s: ChartSeries): boolean {
  return s.values.some((v) => v === null);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * TimeRangePicker edits ?range, ?since/?until (custom) and, when asked,
 * ?bucket in the URL through `set`. "Any time" is offered when allowAll.
 */
export function TimeRangePicker(props: {
  params: Record<string, string>;
  set: (patch: Record<string, string | undefined>) => void;
  fallback?: PresetId | "all";
  allowAll?: boolean;
  showBucket?: boolean;
  now: number;
}) {
  const fallback = props.fallback ?? "24h";
  const range = resolveRange(props.params, props.now, fallback);
  const [custom, setCustom] = useState(range.preset === "custom");
  const [from, setFrom] = useState(toLocalInput(props.params.since));
  const [to, setTo] = useState(toLocalInput(props.params.until));
  const [err, setErr] = useState("");
  const uid = useId();
  const selectValue = custom ? "custom" : range.preset;

  const choose = (v: string) => {
    setErr("");
    if (v === "custom") {
      setCustom(true);
      if (!from && range.since) setFrom(toLocalInput(range.since.toISOString()));
      if (!to) setTo(toLocalInput((range.until ?? new Date(props.now)).toISOString()));
      return;
    }
    setCustom(false);
    props.set({ range: v === fallback ? undefined : v, since: undefined, until: undefined });
  };
  const apply = (e: Event) => {
    e.preventDefault();
    const s = fromLocalInput(from);
    const u = fromLocalInput(to);
    if (!s && !u) return setErr("Give a start, an end, or both.");
    if ((from && !s) || (to && !u)) return setErr("That time is not valid.");
    if (s && u && Date.parse(s) >= Date.parse(u)) return setErr("The start must be before the end.");
    setErr("");
    props.set({ range: undefined, since: s || undefined, until: u || undefined });
  };
  const span = spanMs(range, props.now);
  const okBuckets = allowedBuckets(span);

  return (
    <div class="range-picker">
      <label class="range-field">
        <span class="range-label">Time range</span>
        <select class="input" value={selectValue} onChange={(e) => choose((e.target as HTMLSelectElement).value)}>
          {props.allowAll && <option value="all">Any time</option>}
          {PRESETS.map((p) => <option value={p.id}>{p.label}</option>)}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {custom && (
        <form class="range-custom" onSubmit={apply} noValidate>
          <label class="range-field">
            <span class="range-label">From</span>
            <input class="input" type="datetime-local" id={uid + "-from"} value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          </label>
          <label class="range-field">
            <span class="range-label">To</span>
            <input class="input" type="datetime-local" id={uid + "-to"} value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          </label>
          <Button type="submit">Apply range</Button>
          {(err || range.error) && <small class="field-error" role="alert">{err || range.error}</small>}
        </form>
      )}
      {props.showBucket && (
        <label class="range-field">
          <span class="range-label">Bucket</span>
          <select class="input" value={props.params.bucket && (okBuckets as string[]).includes(props.params.bucket) ? props.params.bucket : ""} onChange={(e) => props.set({ bucket: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Auto</option>
            {BUCKETS.map((b) => <option value={b} disabled={!okBuckets.includes(b)}>{b === "minute" ? "Minute" : b === "hour" ? "Hour" : "Day"}</option>)}
          </select>
        </label>
      )}
    </div>
  );
}
