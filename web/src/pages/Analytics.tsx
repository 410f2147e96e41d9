// Analytics: the range's calls grouped by service, consumer, model or
// provider — a chart per metric with a series per group (the busiest few,
// the rest summed as "Other"), and a table of the groups. Range, grouping
// and filters live in the URL.
import { useLocation, useSearch } from "wouter-preact";
import { api } from "../api/client";
import type { Analytics as AnalyticsData, AnalyticsGroup, AnalyticsPoint, Consumer, Model, Page, Service } from "../api/types";
import { Chart, PALETTE, TimeRangePicker, type ChartSeries } from "../components/Chart";
import { Button, ErrorBanner, PageHeader, Spinner, Table } from "../components/ui";
import { fmtCompact, fmtCost, fmtInt, fmtMs } from "../lib/format";
import { useQueryParams, useResource, useInterval } from "../lib/hooks";
import { bucketStarts, fillBuckets, rangeQuery, resolveRange, type Bucket, useNow } from "../lib/timerange";
import { costAxis, EMPTY_RANGE, groupName, logsHref, msAxis } from "./Dashboard";
import "./dashboard.css";

export const GROUP_BYS = [
  { id: "service", label: "Service" },
  { id: "consumer", label: "Consumer" },
  { id: "model", label: "Model" },
  { id: "provider", label: "Provider" },
] as const;

/** How many groups get their own series; the rest are summed as "Other". */
export const TOP_N = 6;
export const OTHER = "Other";

export interface Metric {
  id: string;
  title: string;
  value: (p: AnalyticsPoint) => number;
  format: (v: number) => string;
  /** Can groups be added up (counts) or not (percentiles)? */
  summable: boolean;
}

export const METRICS: Metric[] = [
  { id: "requests", title: "Requests", value: (p) => p.requests, format: fmtCompact, summable: true },
  { id: "errors", title: "Errors", value: (p) => p.errors, format: fmtCompact, summable: true },
  { id: "tokens", title: "Tokens (in + out)", value: (p) => p.tokens_in + p.tokens_out, format: fmtCompact, summable: true },
  { id: "cost", title: "Cost", value: (p) => p.cost, format: costAxis, summable: true },
  { id: "p50", title: "Latency p50", value: (p) => p.latency_p50_ms, format: msAxis, summable: false },
  { id: "p95", title: "Latency p95", value: (p) => p.latency_p95_ms, format: msAxis, summable: false },
];

/**
 * groupSeries shapes one metric for a chart: a series per group among the
 * top `topN` (by requests, the order the API answers groups in), and one
 * "Other" series summing the rest when the metric can be summed. Missing
 * buckets are 0 for counts and gaps for percentiles.
 */
export function groupSeries(
  times: number[],
  data: AnalyticsPoint[],
  groups: { group: string }[],
  metric: Metric,
  label: (group: string) => string,
  topN = TOP_N,
): ChartSeries[] {
  const top = groups.slice(0, topN).map((g) => g.group);
  const rest = new Set(groups.slice(topN).map((g) => g.group));
  const series: ChartSeries[] = top.map((g, i) => ({
    label: label(g),
    color: PALETTE[i % (PALETTE.length - 1)],
    values: fillBuckets(times, data.filter((p) => p.group === g), metric.value, metric.summable ? 0 : null),
    fill: false,
  }));
  if (rest.size > 0 && metric.summable) {
    series.push({
      label: OTHER,
      color: PALETTE[PALETTE.length - 1],
      values: fillBuckets(times, data.filter((p) => rest.has(p.group)), metric.value, 0),
    });
  }
  return series;
}

/** Services, consumers and models for filters and names (the first 200 of each). */
export function useLookups() {
  const services = useResource((s) => api.get<Page<Service>>("/services", { per_page: 200 }, s), []);
  const consumers = useResource((s) => api.get<Page<Consumer>>("/consumers", { per_page: 200 }, s), []);
  const models = useResource((s) => api.get<Page<Model>>("/models", { per_page: 200 }, s), []);
  return {
    services: services.data?.data ?? [],
    consumers: consumers.data?.data ?? [],
    models: models.data?.data ?? [],
  };
}

export function FilterSelect(props: { label: string; value: string; onChange: (v: string) => void; options: { value: string; label: string }[]; any?: string }) {
  const known = props.options.some((o) => o.value === props.value);
  return (
    <label class="range-field">
      <span class="range-label">{props.label}</span>
      <select class="input" value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">{props.any ?? "All"}</option>
        {props.value && !known && <option value={props.value}>{props.value}</option>}
        {props.options.map((o) => <option value={o.value}>{o.label}</option>)}
      </select>
    </label>
  );
}

export default function Analytics() {
  const [q, setQ] = useQueryParams();
  const [, navigate] = useLocation();
  const [now, refresh] = useNow(useSearch());
  useInterval(refresh, 60_000); // like the dashboard, but calmer: analytics ranges are longer
  const by = GROUP_BYS.some((g) => g.id === q.group_by) ? q.group_by : "service";
  const range = resolveRange(q, now, "24h");
  const rq = rangeQuery(range, now, q.bucket);
  const lookups = useLookups();
  const res = useResource(
    (signal) => api.get<AnalyticsData>("/analytics", {
      since: rq.since, until: rq.until, bucket: rq.bucket, group_by: by,
      service_id: q.service_id, consumer_id: q.consumer_id, model: q.model,
    }, signal),
    [rq.since, rq.until, rq.bucket, by, q.service_id, q.consumer_id, q.model],
  );
  const a = res.data;
  const names: Record<string, string> = { ...(a?.names ?? {}) };
  if (by === "service") for (const s of lookups.services) names[String(s.id)] ??= s.name;
  if (by === "consumer") for (const c of lookups.consumers) names[String(c.id)] ??= c.name;
  const label = (g: string) => groupName(by, g, names);
  const times = a ? bucketStarts(a.since, a.until, a.bucket as Bucket) : [];
  const empty = !!a && a.total.requests === 0;
  const colour = (i: number) => (i < TOP_N ? PALETTE[i % (PALETTE.length - 1)] : PALETTE[PALETTE.length - 1]);

  return (
    <>
      <PageHeader
        title="Analytics"
        subtitle={<>Requests, errors, tokens, cost and latency by {by} · {range.label}</>}
        actions={<Button onClick={refresh} busy={res.loading && !!a}>Refresh</Button>}
      />
      <div class="an-filters">
        <label class="range-field">
          <span class="range-label">Group by</span>
          <select class="input" value={by} onChange={(e) => setQ({ group_by: (e.target as HTMLSelectElement).value })}>
            {GROUP_BYS.map((g) => <option value={g.id}>{g.label}</option>)}
          </select>
        </label>
        <TimeRangePicker params={q} set={setQ} now={now} showBucket />
        <FilterSelect label="Service" value={q.service_id ?? ""} onChange={(v) => setQ({ service_id: v })} options={lookups.services.map((s) => ({ value: String(s.id), label: s.name }))} any="All services" />
        <FilterSelect label="Consumer" value={q.consumer_id ?? ""} onChange={(v) => setQ({ consumer_id: v })} options={lookups.consumers.map((c) => ({ value: String(c.id), label: c.name }))} any="All consumers" />
        <FilterSelect label="Model" value={q.model ?? ""} onChange={(v) => setQ({ model: v })} options={lookups.models.map((m) => ({ value: m.name, label: m.name }))} any="All models" />
      </div>
      <ErrorBanner error={res.error} title="Analytics could not be loaded" />
      {!a && res.loading && <div class="table-loading"><Spinner label="Loading analytics" /></div>}
      {a && a.groups.length > TOP_N && (
        <p class="muted small an-note">The {TOP_N} busiest of {a.groups.length} groups are drawn; the rest are summed as “{OTHER}” (latency charts show the busiest only).</p>
      )}
      {a && (
        <div class="an-charts grid-2">
          {METRICS.map((m) => (
            <Chart
              title={m.title}
              times={times}
              empty={empty && EMPTY_RANGE}
              format={m.format}
              integer={m.format === fmtCompact}
              summary={m.summable ? "sum" : "max"}
              height={180}
              series={groupSeries(times, a.data, a.groups, m, label)}
            />
          ))}
        </div>
      )}
      {a && (
        <>
          <h2>By {by}</h2>
          <Table<AnalyticsGroup>
            label={`Groups by ${by}`}
            rows={a.groups}
            loading={res.loading}
            rowKey={(g) => g.group}
            empty={EMPTY_RANGE}
            onRow={by === "provider" ? undefined : (g) => { const h = logsHref(by, g.group); if (h) navigate(h); }}
            columns={[
              { header: GROUP_BYS.find((g) => g.id === by)!.label, render: (g) => {
                const i = a.groups.indexOf(g);
                return <><span class="swatch" style={{ background: colour(i) }} aria-hidden="true" /><b>{label(g.group)}</b></>;
              } },
              { header: "Requests", class: "num", render: (g) => fmtInt(g.requests) },
              { header: "4xx", class: "num", render: (g) => <span class={g.errors_4xx ? "dash-bad" : undefined}>{fmtInt(g.errors_4xx)}</span> },
              { header: "5xx", class: "num", render: (g) => <span class={g.errors_5xx ? "dash-bad" : undefined}>{fmtInt(g.errors_5xx)}</span> },
              { header: "Errors", class: "num", render: (g) => fmtInt(g.errors) },
              { header: "Tokens in", class: "num", render: (g) => fmtCompact(g.tokens_in) },
              { header: "Tokens out", class: "num", render: (g) => fmtCompact(g.tokens_out) },
              { header: "Cost", class: "num", render: (g) => fmtCost(g.cost) },
              { header: "p50", class: "num", render: (g) => fmtMs(g.latency_p50_ms) },
              { header: "p95", class: "num", render: (g) => fmtMs(g.latency_p95_ms) },
              { header: "p99", class: "num", render: (g) => fmtMs(g.latency_p99_ms) },
              { header: "TTFT p50 / p95", class: "num", render: (g) => (g.ttft_p50_ms || g.ttft_p95_ms ? `${fmtMs(g.ttft_p50_ms)} / ${fmtMs(g.ttft_p95_ms)}` : "—") },
            ]}
          />
        </>
      )}
    </>
  );
}
