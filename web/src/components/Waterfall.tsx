// A call's timing waterfall drawn as horizontal bars on one time axis:
// total, auth, routing, then each upstream attempt with its DNS, connect,
// TLS, time-to-first-byte and transfer phases indented beneath it (retries
// are further attempts), and the time to first token of a stream.
import type { Phase, Waterfall as WaterfallData } from "../api/types";
import { fmtUs } from "../lib/format";

/** What the API may send: every field of a phase is optional in the document. */
export type PhaseIn = Partial<Phase> & { name: Phase["name"] | string };
export interface WaterfallIn { total_us?: number; phases?: PhaseIn[] | null }

export interface WfRow {
  key: string;
  /** The phase's name: total, auth, routing, attempt, dns, connect, tls, ttfb, transfer, ttft. */
  name: string;
  label: string;
  /** 0 for the call's own phases and attempts, 1 for an attempt's phases. */
  depth: number;
  attempt?: number;
  startUs: number;
  durationUs: number;
  /** Position and width on the axis, percent of the total. */
  leftPct: number;
  widthPct: number;
  /** The bar is drawn wider than its duration so it can be seen. */
  widened: boolean;
  status?: number;
  error?: string;
  provider?: string;
  failed: boolean;
  /** Exact values for the tooltip. */
  title: string;
  /** Short accessible name, e.g. "ttfb 12.3 ms". */
  aria: string;
}

export interface WfTick { us: number; pct: number; label: string }

export interface WfLayout {
  totalUs: number;
  rows: WfRow[];
  ticks: WfTick[];
  /** Where the first token reached the client (streams), percent. */
  ttftPct?: number;
  ttftUs?: number;
}

/** The narrowest bar drawn, percent of the axis: a 0 µs phase still shows. */
export const MIN_WIDTH_PCT = 0.5;

const SUB_ORDER = ["dns", "connect", "tls", "ttfb", "transfer"];

export const PHASE_LABELS: Record<string, string> = {
  total: "Total", auth: "Auth", routing: "Routing", attempt: "Attempt",
  dns: "DNS", connect: "Connect", tls: "TLS", ttfb: "Time to first byte", transfer: "Transfer", ttft: "Time to first token",
};

/** niceStep picks 1, 2 or 5 × 10^k so that span/step is about `count`. */
export function niceStep(span: number, count = 5): number {
  if (span <= 0) return 1;
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

/**
 * layoutWaterfall turns the API's phases into rows on a shared axis from
 * 0 to the call's total (or the furthest phase end, if later). Each bar's
 * left is its start and its width its duration, both as a percent of the
 * axis; a bar narrower than MIN_WIDTH_PCT is widened to it (and moved left
 * if it would overflow the axis).
 */
export function layoutWaterfall(wf: WaterfallIn, minWidthPct = MIN_WIDTH_PCT): WfLayout {
  const phases = (wf.phases ?? []).map((p) => ({
    ...p,
    start_us: Math.max(0, p.start_us ?? 0),
    duration_us: Math.max(0, p.duration_us ?? 0),
  }));
  const furthest = phases.reduce((m, p) => Math.max(m, p.start_us + p.duration_us), 0);
  const totalUs = Math.max(wf.total_us ?? 0, furthest);
  const axis = totalUs > 0 ? totalUs : 1;

  const row = (p: (typeof phases)[number], depth: number, key: string): WfRow => {
    const name = p.name;
    let leftPct = (p.start_us / axis) * 100;
    let widthPct = (p.duration_us / axis) * 100;
    const widened = widthPct < minWidthPct;
    if (widened) widthPct = minWidthPct;
    if (leftPct + widthPct > 100) leftPct = Math.max(0, 100 - widthPct);
    const failed = !!p.error || (p.status !== undefined && p.status !== 0 && p.status >= 400);
    let label = PHASE_LABELS[name] ?? name;
    if (name === "attempt") {
      label = `Attempt ${p.attempt ?? "?"}`;
      if (p.provider) label += ` · ${p.provider}`;
    }
    const d = fmtUs(p.duration_us);
    const parts = [`${label}: ${d}`, `starts at ${fmtUs(p.start_us)} (${p.start_us} µs), lasts ${p.duration_us} µs`];
    if (p.status) parts.push(`status ${p.status}`);
    if (p.error) parts.push(`error: ${p.error}`);
    const aria = `${name === "attempt" ? `attempt ${p.attempt ?? "?"}` : name} ${d}${p.status ? `, status ${p.status}` : ""}${p.error ? ", failed" : ""}`;
    return {
      key, name, label, depth, attempt: p.attempt, startUs: p.start_us, durationUs: p.duration_us,
      leftPct, widthPct, widened, status: p.status || undefined, error: p.error || undefined, provider: p.provider || undefined,
      failed, title: parts.join("\n"), aria,
    };
  };

  const rows: WfRow[] = [];
  for (const name of ["total", "auth", "routing"]) {
    phases.filter((p) => p.name === name).forEach((p, i) => rows.push(row(p, 0, `${name}-${i}`)));
  }
  // Attempts in order of their number (then start); each attempt's own
  // phases follow it, indented, in the order they happen.
  const attemptNos = Array.from(new Set(
    phases.filter((p) => p.name === "attempt" || SUB_ORDER.includes(p.name)).map((p) => p.attempt ?? 0),
  )).sort((a, b) => a - b);
  for (const n of attemptNos) {
    phases.filter((p) => p.name === "attempt" && (p.attempt ?? 0) === n)
      .forEach((p, i) => rows.push(row(p, 0, `attempt-${n}-${i}`)));
    phases
      .filter((p) => SUB_ORDER.includes(p.name) && (p.attempt ?? 0) === n)
      .sort((a, b) => a.start_us - b.start_us || SUB_ORDER.indexOf(a.name) - SUB_ORDER.indexOf(b.name))
      .forEach((p, i) => rows.push(row(p, 1, `${p.name}-${n}-${i}`)));
  }
  const ttft = phases.find((p) => p.name === "ttft");
  if (ttft) rows.push(row(ttft, 0, "ttft"));
  // Anything the console does not know yet still shows, at the end.
  const known = new Set(["total", "auth", "routing", "attempt", "ttft", ...SUB_ORDER]);
  phases.filter((p) => !known.has(p.name)).forEach((p, i) => rows.push(row(p, 0, `other-${p.name}-${i}`)));

  const ticks: WfTick[] = [];
  if (totalUs > 0) {
    const step = niceStep(totalUs);
    for (let us = 0; us <= totalUs + step * 1e-9; us += step) ticks.push({ us, pct: (us / axis) * 100, label: fmtUs(us) });
  }
  const ttftUs = ttft ? ttft.start_us + ttft.duration_us : undefined;
  return { totalUs, rows, ticks, ttftUs, ttftPct: ttftUs !== undefined && ttftUs > 0 ? Math.min(100, (ttftUs / axis) * 100) : undefined };
}

const LEGEND = ["total", "auth", "routing", "attempt", "dns", "connect", "tls", "ttfb", "transfer", "ttft"];

export function Waterfall(props: { data?: WaterfallData | WaterfallIn | null }) {
  const layout = layoutWaterfall(props.data ?? {});
  if (layout.rows.length === 0) {
    return <p class="muted" data-testid="waterfall">No timings were recorded for this call.</p>;
  }
  const present = new Set(layout.rows.map((r) => r.name));
  return (
    <div class="wf" data-testid="waterfall">
      <div class="wf-axis" aria-hidden="true">
        <div class="wf-label" />
        <div class="wf-track">
          {layout.ticks.map((t) => <span class="wf-tick" style={{ left: `${t.pct}%` }}>{t.label}</span>)}
        </div>
      </div>
      <ul class="wf-rows" aria-label="Timing phases">
        {layout.rows.map((r) => (
          <li key={r.key} class={`wf-row depth-${r.depth}${r.failed ? " failed" : ""}`}>
            <div class="wf-label" title={r.title}>
              <span class="wf-name">{r.label}</span>
              <span class="wf-dur">{fmtUs(r.durationUs)}</span>
              {r.name === "attempt" && (r.status || r.error) && (
                <span class={`wf-status ${r.failed ? "bad" : "good"}`}>{r.status ? r.status : "error"}</span>
              )}
              {r.name === "attempt" && r.error && <span class="wf-error">{r.error}</span>}
            </div>
            <div class="wf-track">
              {layout.ticks.map((t) => <span class="wf-grid" style={{ left: `${t.pct}%` }} aria-hidden="true" />)}
              {layout.ttftPct !== undefined && <span class="wf-ttft-line" style={{ left: `${layout.ttftPct}%` }} aria-hidden="true" />}
              <div
                class={`wf-bar wf-${r.name}${r.failed ? " wf-failed" : ""}${r.widened ? " wf-widened" : ""}`}
                role="img"
                aria-label={r.aria}
                title={r.title}
                data-start-us={r.startUs}
                data-duration-us={r.durationUs}
                style={{ left: `${r.leftPct}%`, width: `${r.widthPct}%` }}
              />
            </div>
          </li>
        ))}
      </ul>
      <ul class="wf-legend" aria-label="Legend">
        {LEGEND.filter((n) => present.has(n)).map((n) => (
          <li><span class={`wf-swatch wf-${n}`} aria-hidden="true" />{PHASE_LABELS[n]}</li>
        ))}
        {layout.rows.some((r) => r.failed) && <li><span class="wf-swatch wf-attempt wf-failed" aria-hidden="true" />Failed attempt</li>}
        {layout.ttftUs !== undefined && <li><span class="wf-swatch-line" aria-hidden="true" />First token at {fmtUs(layout.ttftUs)}</li>}
      </ul>
    </div>
  );
}
