// Dashboard: the chosen range's totals (requests, error rate, tokens, cost,
// latency), charts of the same over time, and the busiest services,
// consumers and models. The range lives in the URL; the page refreshes
// itself every 30 seconds.
import { Link, useSearch } from "wouter-preact";
import { api } from "../api/client";
import type { Analytics, AnalyticsStats, AnalyticsTop } from "../api/types";
import { Chart, PALETTE, TimeRangePicker } from "../components/Chart";
import { Button, ErrorBanner, PageHeader, Spinner } from "../components/ui";
import { fmtCompact, fmtCost, fmtInt, fmtMs, fmtPct } from "../lib/format";
import { useInterval, useQueryParams, useResource } from "../lib/hooks";
import { bucketStarts, fillBuckets, rangeQuery, resolveRange, type Bucket, useNow } from "../lib/timerange";
import "./dashboard.css";

export const REFRESH_MS = 30_000;
export const EMPTY_RANGE = "No calls in this range";

type TopBy = "service" | "consumer" | "model";

/** isNone: the group of calls without a service, consumer, model… (id 0 or empty). */
function isNone(by: string, group: string): boolean {
  return group === "" || ((by === "service" || by === "consumer") && group === "0");
}

/** groupName shows a group's name: ids of services and consumers via `names`. */
export function groupName(by: string, group: string, names?: Record<string, string> | null): string {
  if (isNone(by, group)) return by === "service" ? "No service" : by === "consumer" ? "No consumer" : by === "model" ? "No model" : "None";
  if ((by === "service" || by === "consumer") && names?.[group]) return names[group];
  if (by === "service" || by === "consumer") return `#${group}`;
  return group;
}

/** logsHref is the call log filtered to one group, when the log can filter by it. */
export function logsHref(by: string, group: string): string | undefined {
  if (isNone(by, group)) return undefined;
  if (by === "service") return `/logs?service_id=${encodeURIComponent(group)}`;
  if (by === "consumer") return `/logs?consumer_id=${encodeURIComponent(group)}`;
  if (by === "model") return `/logs?model=${encodeURIComponent(group)}`;
  if (by === "endpoint") return `/logs?endpoint=${encodeURIComponent(group)}`;
  return undefined;
}

/** msAxis shows milliseconds, and a plain 0 at the axis' origin. */
export function msAxis(v: number): string {
  return v === 0 ? "0" : fmtMs(v);
}

/** costAxis shows small amounts with enough digits for a chart axis. */
export function costAxis(v: number): string {
  if (v === 0) return "$0";
  if (Math.abs(v) < 0.01) return "$" + Number(v.toPrecision(2)).toString();
  return "$" + v.toFixed(2);
}

export default function Dashboard() {
  const [q, setQ] = useQueryParams();
  const [now, refresh] = useNow(useSearch());
  useInterval(refresh, REFRESH_MS);
  const range = resolveRange(q, now, "24h");
  const rq = rangeQuery(range, now, q.bucket);
  const analytics = useResource(
    (signal) => api.get<Analytics>("/analytics", { since: rq.since, until: rq.until, bucket: rq.bucket }, signal),
    [rq.since, rq.until, rq.bucket, now],
  );
  const a = analytics.data;
  const empty = !!a && a.total.requests === 0;
  const times = a ? bucketStarts(a.since, a.until, a.bucket as Bucket) : [];
  const pts = a?.data ?? [];
  const fill = (f: (p: (typeof pts)[number]) => number, gap = false) => fillBuckets(times, pts, f, gap ? null : 0);

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={<>Traffic through the gateway · {range.label}{a && <span class="muted"> · updated {new Date(now).toLocaleTimeString()}</span>}</>}
        actions={<Button onClick={refresh} busy={analytics.loading && !!a}>Refresh</Button>}
      />
      <div class="toolbar">
        <TimeRangePicker params={q} set={setQ} now={now} showBucket />
      </div>
      <ErrorBanner error={analytics.error} title="Analytics could not be loaded" />
      {!a && analytics.loading && <div class="table-loading"><Spinner label="Loading analytics" /></div>}
      {a && <StatCards total={a.total} />}
      {a && (
        <div class="dash-charts grid-2">
          <Chart
            title="Requests and errors"
            times={times}
            empty={empty && EMPTY_RANGE}
            format={fmtCompact}
            integer
            series={[
              { label: "Requests", color: PALETTE[0], values: fill((p) => p.requests), fill: true },
              { label: "Errors", color: PALETTE[3], values: fill((p) => p.errors), fill: true },
            ]}
          />
          <Chart
            title="Latency"
            times={times}
            empty={empty && EMPTY_RANGE}
            format={msAxis}
            summary="max"
            series={[
              { label: "p50", color: PALETTE[2], values: fill((p) => p.latency_p50_ms, true) },
              { label: "p95", color: PALETTE[1], values: fill((p) => p.latency_p95_ms, true) },
            ]}
          />
          <Chart
            title="Tokens"
            times={times}
            empty={empty && EMPTY_RANGE}
            format={fmtCompact}
            integer
            series={[
              { label: "Input tokens", color: PALETTE[0], values: fill((p) => p.tokens_in), fill: true },
              { label: "Output tokens", color: PALETTE[4], values: fill((p) => p.tokens_out), fill: true },
            ]}
          />
          <Chart
            title="Cost"
            times={times}
            empty={empty && EMPTY_RANGE}
            format={costAxis}
            series={[{ label: "Cost (USD)", color: PALETTE[2], values: fill((p) => p.cost), fill: true }]}
          />
        </div>
      )}
      <div class="dash-top grid-3">
        <TopList by="service" title="Top services" since={rq.since} until={rq.until} now={now} />
        <TopList by="consumer" title="Top consumers" since={rq.since} until={rq.until} now={now} />
        <TopList by="model" title="Top models" since={rq.since} until={rq.until} now={now} />
      </div>
    </>
  );
}

function StatCards(props: { total: AnalyticsStats }) {
  const t = props.total;
  const rate = t.requests > 0 ? t.errors / t.requests : 0;
  const cards: { label: string; value: string; sub?: string; tone?: string }[] = [
    { label: "Requests", value: fmtInt(t.requests) },
    { label: "Error rate", value: t.requests > 0 ? fmtPct(rate) : "—", sub: `${fmtInt(t.errors)} errors · ${fmtInt(t.errors_4xx)} 4xx · ${fmtInt(t.errors_5xx)} 5xx`, tone: rate >= 0.05 ? "bad" : undefined },
    { label: "Tokens in / out", value: `${fmtCompact(t.tokens_in)} / ${fmtCompact(t.tokens_out)}` },
    { label: "Cost", value: fmtCost(t.cost) },
    { label: "Latency p50 / p95", value: t.requests > 0 ? `${fmtMs(t.latency_p50_ms)} / ${fmtMs(t.latency_p95_ms)}` : "—", sub: t.requests > 0 ? `p99 ${fmtMs(t.latency_p99_ms)}` : undefined },
  ];
  return (
    <section class="stat-cards" aria-label="Totals">
      {cards.map((c) => (
        <div class={`stat card${c.tone ? " " + c.tone : ""}`} role="group" aria-label={c.label}>
          <div class="stat-label">{c.label}</div>
          <div class="stat-value">{c.value}</div>
          {c.sub && <div class="stat-sub muted small">{c.sub}</div>}
        </div>
      ))}
    </section>
  );
}

function TopList(props: { by: TopBy; title: string; since?: string; until?: string; now: number }) {
  const top = useResource(
    (signal) => api.get<AnalyticsTop>("/analytics/top", { by: props.by, since: props.since, until: props.until, limit: 5 }, signal),
    [props.by, props.since, props.until, props.now],
  );
  const rows = top.data?.data ?? [];
  const max = rows.reduce((m, r) => Math.max(m, r.requests), 0);
  return (
    <section class="card top-list" aria-labelledby={`top-${props.by}`}>
      <h2 id={`top-${props.by}`}>{props.title}</h2>
      <ErrorBanner error={top.error} />
      {!top.data && top.loading && <Spinner />}
      {top.data && rows.length === 0 && <p class="muted">{EMPTY_RANGE}</p>}
      {rows.length > 0 && (
        <table class="top-table" aria-label={props.title}>
          <thead>
            <tr><th scope="col">{props.by === "service" ? "Service" : props.by === "consumer" ? "Consumer" : "Model"}</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Cost</th></tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const name = groupName(props.by, r.group, top.data?.names);
              const href = logsHref(props.by, r.group);
              return (
                <tr key={r.group}>
                  <td class="top-name">
                    {href ? <Link href={href} title={`Call log of ${name}`}>{name}</Link> : <span class="muted">{name}</span>}
                    <span class="top-bar" aria-hidden="true" style={{ width: `${max > 0 ? (r.requests / max) * 100 : 0}%` }} />
                  </td>
                  <td class="num">{fmtInt(r.requests)}</td>
                  <td class={r.errors > 0 ? "num dash-bad" : "num"}>{fmtInt(r.errors)}</td>
                  <td class="num">{fmtCost(r.cost)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
