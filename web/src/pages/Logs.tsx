// Call log: every data-plane call, newest first, filtered by the URL's
// query (status, service, consumer, model, endpoint, request id, time
// range), paged with the API's cursor ("Load more"), and a live tail that
// polls every 2 s for newer calls. /logs/:id shows one call: its summary,
// error, timing waterfall, upstream attempts and (when logged) bodies.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation, useSearch } from "wouter-preact";
import { api } from "../api/client";
import type { Attempt, LogDetail, LogPage, LogSummary } from "../api/types";
import { TimeRangePicker } from "../components/Chart";
import { Waterfall } from "../components/Waterfall";
import { Badge, Button, CopyButton, Empty, ErrorBanner, HttpStatus, PageHeader, Spinner } from "../components/ui";
import { fmtCost, fmtInt, fmtTime, fmtUs } from "../lib/format";
import { useInterval, useQueryParams, useResource } from "../lib/hooks";
import { resolveRange, useNow } from "../lib/timerange";
import { FilterSelect, useLookups } from "./Analytics";
import "./logs.css";

export const PAGE_SIZE = 50;
export const TAIL_MS = 2000;
/** Live tail looks this far behind the newest call shown, for calls logged late (long streams). */
export const TAIL_OVERLAP_MS = 60_000;

const ENDPOINTS = ["chat", "embeddings", "messages", "prompt", "models", "subscriptions"];

/** validStatus accepts a status code (100–599) or a class (2xx … 5xx). */
export function validStatus(s: string): boolean {
  return /^[1-5]xx$/i.test(s) || (/^\d{3}$/.test(s) && Number(s) >= 100 && Number(s) < 600);
}

/** The API's filters from the URL's query (the range resolved at `now`). */
export function logFilters(q: Record<string, string>, now: number): Record<string, string | undefined> {
  const r = resolveRange(q, now, "all");
  return {
    status: q.status && validStatus(q.status) ? q.status.toLowerCase() : undefined,
    service_id: q.service_id || undefined,
    consumer_id: q.consumer_id || undefined,
    model: q.model || undefined,
    endpoint: q.endpoint || undefined,
    request_id: q.request_id || undefined,
    since: r.since?.toISOString(),
    until: r.until?.toISOString(),
  };
}

/**
 * mergeNewer adds polled records to those shown: unknown ids are new, the
 * result is newest first. Returns the merged list and the new ids.
 */
export function mergeNewer(shown: LogSummary[], polled: LogSummary[]): { rows: LogSummary[]; added: string[] } {
  const known = new Set(shown.map((r) => r.id));
  const fresh = polled.filter((r) => !known.has(r.id));
  if (fresh.length === 0) return { rows: shown, added: [] };
  const rows = [...fresh, ...shown].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at) || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0));
  return { rows, added: fresh.map((r) => r.id) };
}

/** tailSince is where the next live-tail poll starts: a little before the newest call shown. */
export function tailSince(rows: LogSummary[], filterSince?: string): string | undefined {
  const newest = rows.reduce((m, r) => Math.max(m, Date.parse(r.started_at) || 0), 0);
  let t = newest > 0 ? newest - TAIL_OVERLAP_MS : undefined;
  const fs = filterSince ? Date.parse(filterSince) : undefined;
  if (fs !== undefined && (t === undefined || fs > t)) t = fs;
  return t === undefined ? undefined : new Date(t).toISOString();
}

/** fmtWhen: time of day for today's calls (with ms), date and time otherwise. */
export function fmtWhen(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "—";
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return `${hms}.${pad(d.getMilliseconds(), 3)}`;
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${hms}`;
}

/** prettyBody pretty-prints JSON; server-sent events line by line; anything else as is. */
export function prettyBody(body: string): string {
  const t = body.trim();
  if (!t) return "";
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch { /* not one JSON document */ }
  if (/^(data|event|id):/m.test(t)) {
    return t.split(/\r?\n/).filter((l) => l.trim() !== "").map((l) => {
      const m = /^data:\s?(.*)$/.exec(l);
      if (!m || m[1] === "[DONE]") return l;
      try { return "data: " + JSON.stringify(JSON.parse(m[1])); } catch { return l; }
    }).join("\n");
  }
  return body;
}

export default function Logs(props: { params?: { id?: string } }) {
  const id = props.params?.id;
  return id ? <CallDetail id={decodeURIComponent(id)} /> : <CallLog />;
}

interface ListState {
  rows: LogSummary[];
  cursor: string;
  loading: boolean;
  loadingMore: boolean;
  error?: Error;
  added: string[];
}

function CallLog() {
  const [q, setQ] = useQueryParams();
  const search = useSearch();
  const [, navigate] = useLocation();
  const [now, refresh] = useNow(useSearch());
  const filters = logFilters(q, now);
  // now is in the key so Refresh loads again even when no filter depends
  // on the clock ("Any time").
  const key = JSON.stringify(filters) + now;
  const lookups = useLookups();
  const [st, setSt] = useState<ListState>({ rows: [], cursor: "", loading: true, loadingMore: false, added: [] });
  const [live, setLive] = useState(false);
  const polling = useRef(false);
  const stRef = useRef(st);
  stRef.current = st;

  useEffect(() => {
    const ctl = new AbortController();
    setSt((s) => ({ ...s, loading: true, error: undefined }));
    api.get<LogPage>("/logs", { ...filters, limit: PAGE_SIZE }, ctl.signal).then(
      (p) => setSt({ rows: p.data ?? [], cursor: p.next_cursor ?? "", loading: false, loadingMore: false, added: [] }),
      (e: Error) => e.name !== "AbortError" && setSt((s) => ({ ...s, rows: [], cursor: "", loading: false, error: e })),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const loadMore = async () => {
    const cur = stRef.current;
    if (!cur.cursor || cur.loadingMore) return;
    setSt((s) => ({ ...s, loadingMore: true }));
    try {
      const p = await api.get<LogPage>("/logs", { ...filters, limit: PAGE_SIZE, cursor: cur.cursor });
      setSt((s) => {
        const known = new Set(s.rows.map((r) => r.id));
        return { ...s, rows: [...s.rows, ...(p.data ?? []).filter((r) => !known.has(r.id))], cursor: p.next_cursor ?? "", loadingMore: false, error: undefined };
      });
    } catch (e) {
      setSt((s) => ({ ...s, loadingMore: false, error: e as Error }));
    }
  };

  const poll = async () => {
    if (polling.current || stRef.current.loading) return;
    polling.current = true;
    try {
      // Newer calls than those shown; until is ignored while tailing.
      const since = tailSince(stRef.current.rows, filters.since);
      const p = await api.get<LogPage>("/logs", { ...filters, until: undefined, since, limit: 200 });
      setSt((s) => {
        const m = mergeNewer(s.rows, p.data ?? []);
        return m.added.length ? { ...s, rows: m.rows, added: m.added, error: undefined } : s.error ? { ...s, error: undefined } : s;
      });
    } catch (e) {
      setSt((s) => ({ ...s, error: e as Error }));
    } finally {
      polling.current = false;
    }
  };
  useInterval(poll, TAIL_MS, live);

  const open = (r: LogSummary) => navigate(`/logs/${encodeURIComponent(r.id)}${search ? "?" + search : ""}`);
  const svcName = (id: number) => (id ? lookups.services.find((s) => s.id === id)?.name ?? `#${id}` : "—");
  const conName = (id: number) => (id ? lookups.consumers.find((c) => c.id === id)?.name ?? `#${id}` : "—");
  const added = new Set(st.added);
  const anyFilter = Object.entries(q).some(([k, v]) => v && k !== "range");

  return (
    <>
      <PageHeader
        title="Call log"
        subtitle="Every call through the gateway, newest first. Open one to see its waterfall."
        actions={
          <>
            {live && <span class="live-dot" role="status">Live · every 2 s</span>}
            <Button variant={live ? "primary" : "default"} aria-pressed={live} onClick={() => { setLive(!live); if (!live) poll(); }}>
              {live ? "Stop live tail" : "Live tail"}
            </Button>
            <Button onClick={refresh} busy={st.loading && st.rows.length > 0}>Refresh</Button>
          </>
        }
      />
      <form class="log-filters" role="search" aria-label="Filter calls" onSubmit={(e) => e.preventDefault()}>
        <TextFilter label="Status" value={q.status ?? ""} placeholder="5xx or 429" list="log-status-list" validate={(v) => (!v || validStatus(v) ? "" : "A status code (e.g. 429) or class (2xx, 4xx, 5xx).")} onApply={(v) => setQ({ status: v })} />
        <datalist id="log-status-list">{["2xx", "4xx", "5xx", "429", "500", "502"].map((s) => <option value={s} />)}</datalist>
        <FilterSelect label="Service" value={q.service_id ?? ""} onChange={(v) => setQ({ service_id: v })} options={lookups.services.map((s) => ({ value: String(s.id), label: s.name }))} any="All services" />
        <FilterSelect label="Consumer" value={q.consumer_id ?? ""} onChange={(v) => setQ({ consumer_id: v })} options={lookups.consumers.map((c) => ({ value: String(c.id), label: c.name }))} any="All consumers" />
        <FilterSelect label="Model" value={q.model ?? ""} onChange={(v) => setQ({ model: v })} options={lookups.models.map((m) => ({ value: m.name, label: m.name }))} any="All models" />
        <FilterSelect label="Endpoint" value={q.endpoint ?? ""} onChange={(v) => setQ({ endpoint: v })} options={ENDPOINTS.map((e) => ({ value: e, label: e }))} any="All endpoints" />
        <TextFilter label="Request ID" value={q.request_id ?? ""} placeholder="req_…" onApply={(v) => setQ({ request_id: v })} />
        <TimeRangePicker params={q} set={setQ} now={now} fallback="all" allowAll />
        {anyFilter && <Button variant="ghost" onClick={() => navigate("/logs", { replace: true })}>Clear filters</Button>}
      </form>
      <ErrorBanner error={st.error} title="The call log could not be loaded" />
      <div class="table-wrap">
        <table class="table log-table" aria-label="Calls" aria-busy={st.loading || undefined}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Status</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Model → upstream</th>
              <th scope="col">Consumer</th>
              <th scope="col">Service</th>
              <th scope="col" class="num">Tokens in / out</th>
              <th scope="col" class="num">Cost</th>
              <th scope="col" class="num">Latency</th>
              <th scope="col" class="num">TTFT</th>
            </tr>
          </thead>
          <tbody>
            {st.rows.map((r) => (
              <tr
                key={r.id}
                class={added.has(r.id) ? "clickable new-row" : "clickable"}
                tabIndex={0}
                aria-label={`${r.status} ${r.endpoint} ${r.model || ""} at ${fmtTime(r.started_at)}`}
                onClick={(e) => { if (!(e.target as HTMLElement).closest("a, button")) open(r); }}
                onKeyDown={(e) => e.key === "Enter" && e.target === e.currentTarget && open(r)}
              >
                <td class="nowrap" title={r.started_at}>{fmtWhen(r.started_at)}</td>
                <td title={r.error || undefined}><HttpStatus status={r.status} /></td>
                <td>{r.endpoint || "—"}{r.stream && <> <Badge tone="blue" title="Streamed response">stream</Badge></>}</td>
                <td class="log-model">
                  <div>{r.model || "—"}</div>
                  {(r.provider || r.upstream_model) && <div class="muted small">→ {r.provider}{r.upstream_model ? `/${r.upstream_model}` : ""}</div>}
                </td>
                <td class="ellipsis" title={conName(r.consumer_id)}>{conName(r.consumer_id)}</td>
                <td class="ellipsis" title={svcName(r.service_id)}>{svcName(r.service_id)}</td>
                <td class="num">
                  {fmtInt(r.tokens_in)} / {fmtInt(r.tokens_out)}
                  {r.usage_estimated && <abbr class="est" title="Usage estimated: the upstream did not report token counts"> ≈</abbr>}
                </td>
                <td class="num">{fmtCost(r.cost)}</td>
                <td class="num">{fmtUs(r.total_us)}</td>
                <td class="num">{r.stream && r.ttft_us ? fmtUs(r.ttft_us) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {st.loading && st.rows.length === 0 && <div class="table-loading"><Spinner label="Loading calls" /></div>}
        {!st.loading && !st.error && st.rows.length === 0 && <Empty>{anyFilter ? "No calls match these filters." : "No calls yet. Calls to /v1 appear here as they happen."}</Empty>}
      </div>
      <div class="pager">
        <span class="muted">{st.rows.length > 0 && `${fmtInt(st.rows.length)} ${st.rows.length === 1 ? "call" : "calls"} shown`}</span>
        {st.cursor ? (
          <Button onClick={loadMore} busy={st.loadingMore}>Load more</Button>
        ) : (
          st.rows.length > 0 && !st.loading && <span class="muted">End of the log</span>
        )}
      </div>
    </>
  );
}

/** TextFilter applies on Enter, on leaving the field, or when typing stops; shows why a value is refused. */
function TextFilter(props: { label: string; value: string; placeholder?: string; list?: string; validate?: (v: string) => string; onApply: (v: string) => void }) {
  const [v, setV] = useState(props.value);
  const [err, setErr] = useState("");
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const last = useRef(props.value);
  useEffect(() => { if (props.value !== last.current) { last.current = props.value; setV(props.value); } }, [props.value]);
  const apply = (nv: string) => {
    clearTimeout(timer.current);
    const t = nv.trim();
    const e = props.validate?.(t) ?? "";
    setErr(e);
    if (e || t === last.current) return;
    last.current = t;
    props.onApply(t);
  };
  const id = "f-" + props.label.toLowerCase().replace(/\W+/g, "-");
  return (
    <div class={`range-field${err ? " has-error" : ""}`}>
      <label class="range-label" for={id}>{props.label}</label>
      <input
        id={id}
        class="input"
        type="search"
        value={v}
        list={props.list}
        placeholder={props.placeholder}
        aria-invalid={err ? true : undefined}
        aria-describedby={err ? id + "-err" : undefined}
        onInput={(e) => {
          const nv = (e.target as HTMLInputElement).value;
          setV(nv);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => apply(nv), 600);
        }}
        onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); apply(v); } }}
        onBlur={() => apply(v)}
      />
      {err && <small class="field-error" id={id + "-err"} role="alert">{err}</small>}
    </div>
  );
}

function CallDetail(props: { id: string }) {
  const search = useSearch();
  const lookups = useLookups();
  const res = useResource((signal) => api.get<LogDetail>(`/logs/${encodeURIComponent(props.id)}`, undefined, signal), [props.id]);
  const d = res.data;
  const back = <Link href={`/logs${search ? "?" + search : ""}`} class="back-link">← Call log</Link>;
  if (!d) {
    return (
      <>
        {back}
        <PageHeader title="Call" />
        <ErrorBanner error={res.error} title="This call could not be loaded" />
        {res.loading && <div class="table-loading"><Spinner label="Loading the call" /></div>}
      </>
    );
  }
  const svc = d.service_id ? lookups.services.find((s) => s.id === d.service_id)?.name ?? `#${d.service_id}` : "—";
  const con = d.consumer_id ? lookups.consumers.find((c) => c.id === d.consumer_id)?.name ?? `#${d.consumer_id}` : "—";
  const attempts = d.attempts ?? [];
  const reqBody = d.request_body as string | null | undefined;
  const resBody = d.response_body as string | null | undefined;
  const kv: [string, ComponentChildren][] = [
    ["Time", <span title={d.started_at}>{fmtTime(d.started_at)}</span>],
    ["Status", <HttpStatus status={d.status} />],
    ["Request ID", <code>{d.request_id || "—"}</code>],
    ["Log ID", <code>{d.id}</code>],
    ["Endpoint", <>{d.endpoint || "—"} {d.stream && <Badge tone="blue">stream</Badge>}</>],
    ["Model", d.model || "—"],
    ["Provider / upstream model", d.provider || d.upstream_model ? `${d.provider || "—"} / ${d.upstream_model || "—"}` : "—"],
    ["Consumer", d.consumer_id ? <Link href={`/logs?consumer_id=${d.consumer_id}`}>{con}</Link> : "—"],
    ["Key", d.key_id ? <code>{d.key_id}</code> : "—"],
    ["Service", d.service_id ? <Link href={`/logs?service_id=${d.service_id}`}>{svc}</Link> : "—"],
    ...(d.prompt_slug ? [["Prompt", `${d.prompt_slug} v${d.prompt_version}`] as [string, string]] : []),
    ["Tokens in / out", <>{fmtInt(d.tokens_in)} / {fmtInt(d.tokens_out)}{d.usage_estimated && <Badge tone="amber" title="The upstream did not report usage; the gateway estimated it">estimated</Badge>}</>],
    ["Cost", fmtCost(d.cost)],
    ["Latency", fmtUs(d.total_us)],
    ...(d.stream ? [["Time to first token", fmtUs(d.ttft_us)] as [string, string]] : []),
    ["Auth / routing", `${fmtUs(d.auth_us)} / ${fmtUs(d.routing_us)}`],
    ["Bytes in / out", `${fmtInt(d.bytes_in)} / ${fmtInt(d.bytes_out)}`],
    ["Client", d.client_addr || "—"],
  ];
  const wf = d.waterfall && !d.stream ? { ...d.waterfall, phases: (d.waterfall.phases ?? []).filter((p) => p.name !== "ttft") } : d.waterfall;
  return (
    <>
      {back}
      <PageHeader title={`Call ${d.request_id || d.id}`} subtitle={<>{d.model || d.endpoint} · {fmtTime(d.started_at)}</>} actions={<CopyButton text={d.request_id || d.id} label="Copy request ID" />} />
      {d.error && <div class="banner banner-error" role="alert"><strong>Error: </strong>{d.error}</div>}
      <section class="card wf-card" aria-labelledby="call-waterfall">
        <h2 id="call-waterfall">Waterfall</h2>
        <Waterfall data={wf} />
      </section>
      <section class="card call-summary" aria-labelledby="call-summary">
        <h2 id="call-summary">Summary</h2>
        <dl class="kv kv-wide">{kv.map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
      </section>
      <section class="call-section" aria-labelledby="call-attempts">
        <h2 id="call-attempts">Upstream attempts</h2>
        <AttemptsTable attempts={attempts} />
      </section>
      <section aria-labelledby="call-bodies" class="call-section bodies">
        <h2 id="call-bodies">Bodies</h2>
        {reqBody == null && resBody == null ? (
          <p class="muted">Bodies are not logged for this call (the service's “log bodies” setting is off).</p>
        ) : (
          <>
            <Body title="Request body" body={reqBody} />
            <Body title="Response body" body={resBody} />
          </>
        )}
      </section>
    </>
  );
}

function AttemptsTable(props: { attempts: Attempt[] }) {
  if (props.attempts.length === 0) return <p class="muted">No upstream was called (the gateway answered this call itself).</p>;
  return (
    <div class="table-wrap">
      <table class="table" aria-label="Upstream attempts">
        <thead>
          <tr>
            <th scope="col">#</th><th scope="col">Provider</th><th scope="col">Status</th>
            <th scope="col" class="num">Start</th><th scope="col" class="num">DNS</th><th scope="col" class="num">Connect</th><th scope="col" class="num">TLS</th>
            <th scope="col" class="num">TTFB</th><th scope="col" class="num">Transfer</th><th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {props.attempts.map((a, i) => (
            <tr>
              <td>{i + 1}{a.retried && <> <Badge tone="amber" title="This attempt failed and the call was retried">retried</Badge></>}</td>
              <td>{a.provider || "—"}{a.upstream_model && !a.provider?.endsWith("/" + a.upstream_model) ? <span class="muted"> / {a.upstream_model}</span> : null}</td>
              <td>{a.status ? <HttpStatus status={a.status} /> : <Badge tone="red">failed</Badge>}</td>
              <td class="num">{fmtUs(a.start_us)}</td>
              <td class="num">{fmtUs(a.dns_us)}</td>
              <td class="num">{fmtUs(a.connect_us)}</td>
              <td class="num">{fmtUs(a.tls_us)}</td>
              <td class="num">{fmtUs(a.ttfb_us)}</td>
              <td class="num">{fmtUs(a.transfer_us)}</td>
              <td class="attempt-error">{a.error || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Body(props: { title: string; body: string | null | undefined }) {
  if (props.body === null || props.body === undefined) {
    return <details class="call-body card"><summary>{props.title} <span class="muted">(not logged)</span></summary></details>;
  }
  const text = prettyBody(props.body);
  return (
    <details class="call-body card" open={text.length < 4000}>
      <summary>{props.title} <span class="muted small">({fmtInt(props.body.length)} bytes)</span></summary>
      <div class="call-body-actions"><CopyButton text={props.body} label={`Copy ${props.title.toLowerCase()}`} /></div>
      <pre>{text || <span class="muted">(empty)</span>}</pre>
    </details>
  );
}
