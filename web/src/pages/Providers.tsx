// Providers: the upstream APIs the gateway calls. A list with search and
// kind filter in the URL, health from the circuit breakers (refreshed every
// 10 s), a connection test per provider, a detail view at /providers/:id,
// and (admins) create/edit in a dialog with write-only credentials and
// delete after a confirmation.
import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation, useParams, useSearch } from "wouter-preact";
import { api, ApiError } from "../api/client";
import { providerKinds, type Breaker, type Page, type Provider, type ProviderTest } from "../api/types";
import { confirmDelete, Modal, toast } from "../components/dialog";
import { Badge, Button, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, Spinner, StatusBadge, Table, type Errors } from "../components/ui";
import { fmtAgo, fmtInt, fmtTime } from "../lib/format";
import { useInterval, useQueryParams, useResource, useSession } from "../lib/hooks";
import {
  apiFieldErrors, healthByProvider, infoOf, providerBody, rowsOf, validateProvider,
  type Health, type KV, type ProviderForm,
} from "../lib/providers";
import { session } from "../lib/session";
import "./providers.css";

const PER_PAGE = 20;
export const BREAKER_REFRESH_MS = 10_000;

export default function Providers() {
  useSession();
  const isAdmin = session.isAdmin;
  const [q, setQ] = useQueryParams();
  const params = useParams<{ id?: string }>();
  const search = useSearch();
  const [, navigate] = useLocation();
  const page = Number(q.page ?? 1) || 1;
  const list = useResource(
    (signal) => api.get<Page<Provider>>("/providers", { q: q.q, kind: q.kind, page, per_page: PER_PAGE }, signal),
    [q.q, q.kind, page],
  );
  const breakers = useResource((signal) => api.get<{ data: Breaker[] }>("/breakers", undefined, signal), []);
  useInterval(breakers.reload, BREAKER_REFRESH_MS);
  const [editing, setEditing] = useState<Provider | "new" | null>(null);
  const [testing, setTesting] = useState<Provider | null>(null);
  const [tests, setTests] = useState<Record<number, ProviderTest>>({});
  const [actionError, setActionError] = useState<{ title: string; error: Error } | null>(null);

  const names = list.data?.data.map((p) => p.name) ?? [];
  const health = healthByProvider(breakers.data?.data ?? [], names);
  const qs = search ? "?" + search : "";
  const openId = params.id ? Number(params.id) : null;
  const open = (p: Provider) => navigate(`/providers/${p.id}${qs}`);
  const closeDetail = () => navigate(`/providers${qs}`);

  const remove = async (p: Provider) => {
    const deleted = await confirmDelete({
      title: "Delete provider",
      message: <>Delete <b>{p.name}</b> and its stored credential? A provider that a model still targets cannot be deleted.</>,
      confirmLabel: "Delete provider",
      path: `/providers/${p.id}`,
      done: `Provider ${p.name} deleted`,
      onError: (error) => setActionError({ title: `Cannot delete ${p.name}`, error }),
    });
    if (deleted) {
      setActionError(null);
      list.reload();
    }
    return deleted;
  };

  const rowActions = (p: Provider) => (
    <span class="row-actions prov-actions">
      {isAdmin && <Button variant="ghost" aria-label={`Test connection to ${p.name}`} title="Test connection" onClick={() => setTesting(p)}>Test</Button>}
      {isAdmin && <Button variant="ghost" aria-label={`Edit ${p.name}`} onClick={() => setEditing(p)}>Edit</Button>}
      {isAdmin && <Button variant="ghost" aria-label={`Delete ${p.name}`} onClick={() => remove(p)}>Delete</Button>}
    </span>
  );

  return (
    <>
      <PageHeader
        title="Providers"
        subtitle="Upstream APIs the gateway calls. Credentials are write-only: they are sealed at rest and never shown again."
        actions={isAdmin && <Button variant="primary" onClick={() => setEditing("new")}>New provider</Button>}
      />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search name or base URL" label="Search providers" />
        <label class="sr-only" for="provider-kind-filter">Filter by type</label>
        <select id="provider-kind-filter" class="input" value={q.kind ?? ""} onChange={(e) => setQ({ kind: (e.target as HTMLSelectElement).value })}>
          <option value="">All kinds</option>
          {providerKinds.map((k) => <option value={k}>{k}</option>)}
        </select>
        <span class="muted small prov-refresh" title="Breaker states are refreshed every 10 seconds">
          {breakers.loading ? <Spinner small label="Refreshing health" /> : null} Health refreshes every 10 s
        </span>
      </div>
      <ErrorBanner error={list.error} />
      {breakers.error && <ErrorBanner error={breakers.error} title="Health unavailable" />}
      {actionError && <ErrorBanner error={actionError.error} title={actionError.title} />}
      <Table
        label="Providers"
        rows={list.data?.data}
        loading={list.loading}
        rowKey={(p) => p.id}
        onRow={open}
        empty={q.q || q.kind ? "No providers match." : isAdmin ? "No providers yet: add one with New provider." : "No providers yet."}
        columns={[
          { header: "Name", class: "prov-nowrap", render: (p) => (
            <>
              <b>{p.name}</b>
              <div class="prov-narrow-only muted small">{p.kind}{!p.enabled && " · disabled"}</div>
            </>
          ) },
          { header: "Kind", class: "prov-nowrap prov-hide-narrow", render: (p) => <Badge tone="blue">{p.kind}</Badge> },
          { header: "Base URL", class: "prov-hide-narrow prov-url", render: (p) => <BaseURL p={p} /> },
          { header: "Enabled", class: "prov-hide-narrow", render: (p) => p.enabled ? <Badge tone="green">enabled</Badge> : <Badge>disabled</Badge> },
          { header: "Credential", class: "prov-hide-narrow", render: (p) => p.has_api_key ? <Badge tone="green">stored</Badge> : <Badge>none</Badge> },
          { header: "Timeout", class: "prov-hide-narrow num", render: (p) => fmtTimeout(p.timeout_ms) },
          { header: "Health", render: (p) => <HealthCell health={health.get(p.name)} test={tests[p.id]} /> },
          { header: "", class: "right", render: rowActions },
        ]}
      />
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
      <ProviderDialog
        provider={editing}
        onClose={() => setEditing(null)}
        onSaved={() => { setEditing(null); list.reload(); }}
      />
      {testing && (
        <TestDialog
          provider={testing}
          onClose={() => setTesting(null)}
          onResult={(r) => setTests((t) => ({ ...t, [testing.id]: r }))}
        />
      )}
      {openId !== null && !editing && !testing && (
        <Detail
          id={openId}
          breakers={breakers.data?.data ?? []}
          test={tests[openId]}
          onClose={closeDetail}
          onTest={setTesting}
          onEdit={setEditing}
          onDelete={async (p) => { if (await remove(p)) closeDetail(); }}
        />
      )}
    </>
  );
}

function fmtTimeout(ms: number): string {
  if (!ms) return "—";
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${fmtInt(ms)} ms`;
}

function BaseURL(props: { p: Provider }) {
  if (props.p.base_url) return <span class="mono">{props.p.base_url}</span>;
  const def = infoOf(props.p.kind)?.defaultBaseURL;
  return <span class="muted" title="The kind's default base URL">{def ? <>default <span class="mono">{def}</span></> : "—"}</span>;
}

export function HealthCell(props: { health?: Health; test?: ProviderTest }) {
  const h = props.health;
  const t = props.test;
  return (
    <div class="prov-health">
      {h?.state ? (
        <span title={h.targets.map((b) => `${b.target_id}: ${b.state}, ${b.consecutive_failures} consecutive failures`).join("\n")}>
          <StatusBadge status={h.state} />
          {h.failures > 0 && <span class="small"> {h.failures} {h.failures === 1 ? "failure" : "failures"}</span>}
          {h.state !== "closed" && h.openedAt && <span class="small muted"> · opened {fmtAgo(h.openedAt)}</span>}
        </span>
      ) : (
        <span class="muted small" title="No target of this provider has been routed to since the server started">no traffic yet</span>
      )}
      {t && (
        <span class="small">
          {t.ok ? <Badge tone="green">test ok · {t.latency_ms} ms</Badge> : <Badge tone="red" title={t.error}>test failed</Badge>}
        </span>
      )}
    </div>
  );
}

// ------------------------------------------------------------------ test

function TestDialog(props: { provider: Provider; onClose: () => void; onResult: (r: ProviderTest) => void }) {
  const p = props.provider;
  const info = infoOf(p.kind);
  const [model, setModel] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ProviderTest | null>(null);
  const [error, setError] = useState<Errors>({});
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);

  const run = async (e?: Event) => {
    e?.preventDefault();
    if (info && !info.canList && !model.trim()) {
      setError({ model: `A ${p.kind} provider cannot list its models: give an upstream model for a 1-token chat.` });
      return;
    }
    setBusy(true);
    setError({});
    setResult(null);
    try {
      const r = await api.post<ProviderTest>(`/providers/${p.id}/test`, model.trim() ? { model: model.trim() } : {});
      if (!alive.current) return;
      setResult(r);
      props.onResult(r);
    } catch (err) {
      if (!alive.current) return;
      setError(err instanceof ApiError && err.param === "model" ? { model: err.message } : { "": (err as Error).message });
    } finally {
      if (alive.current) setBusy(false);
    }
  };
  // Kinds that can list their models are tested straight away.
  useEffect(() => {
    if (info?.canList !== false) void run();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <Modal title={`Test connection: ${p.name}`} open onClose={props.onClose}>
      <form onSubmit={run} noValidate>
        <p class="muted prov-test-intro">
          {info?.canList === false
            ? "Sends a 1-token chat completion to the model you name."
            : "Lists the provider's models with its credential. Name a model to send a 1-token chat completion instead."}
        </p>
        <FormError errors={error} />
        <Field label="Model for a 1-token chat (optional)" error={error.model} hint={info?.canList === false ? "Required for this kind." : "Leave empty to list models."}>
          <input class="input" name="model" value={model} placeholder="e.g. gpt-4o-mini" onInput={(e) => setModel((e.target as HTMLInputElement).value)} />
        </Field>
        <div class="prov-test-result" aria-live="polite">
          {busy && <p class="prov-testing"><Spinner small label="Testing" /> Testing the connection… (up to 10 s)</p>}
          {result && <TestResult r={result} />}
        </div>
        <div class="form-actions">
          <Button onClick={props.onClose}>Close</Button>
          <Button type="submit" variant="primary" busy={busy}>{result || error[""] ? "Run test again" : "Run test"}</Button>
        </div>
      </form>
    </Modal>
  );
}

export function TestResult(props: { r: ProviderTest }) {
  const r = props.r;
  if (!r.ok) {
    return (
      <div class="banner banner-error" role="alert">
        <strong>Connection failed{r.status ? ` (HTTP ${r.status})` : ""}</strong>
        {r.latency_ms > 0 && <> after {r.latency_ms} ms</>}: {r.error || "no reason given"}
      </div>
    );
  }
  const models = r.models ?? [];
  return (
    <div class="banner banner-ok" role="status">
      <strong>Connected</strong> in {r.latency_ms} ms ·{" "}
      {r.check === "chat"
        ? <>the 1-token chat to <span class="mono">{r.model}</span> answered</>
        : <>{models.length} {models.length === 1 ? "model" : "models"} listed</>}
      {models.length > 0 && (
        <ul class="prov-models" aria-label="Models listed">
          {models.map((m) => <li class="mono">{m}</li>)}
        </ul>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- detail

function Detail(props: {
  id: number;
  breakers: Breaker[];
  test?: ProviderTest;
  onClose: () => void;
  onTest: (p: Provider) => void;
  onEdit: (p: Provider) => void;
  onDelete: (p: Provider) => void;
}) {
  const r = useResource((signal) => api.get<Provider>(`/providers/${props.id}`, undefined, signal), [props.id]);
  const p = r.data;
  const health = p ? healthByProvider(props.breakers, [p.name]).get(p.name) : undefined;
  const settings = Object.entries(p?.settings ?? {});
  const headers = Object.entries(p?.headers ?? {});
  return (
    <Modal title={p ? `Provider ${p.name}` : "Provider"} open onClose={props.onClose} wide>
      <ErrorBanner error={r.error} />
      {!p && r.loading && <Spinner />}
      {p && (
        <div class="stack">
          <dl class="kv">
            <dt>Kind</dt><dd>{p.kind} <span class="muted small">{infoOf(p.kind)?.hint}</span></dd>
            <dt>Base URL</dt><dd><BaseURL p={p} /></dd>
            <dt>Enabled</dt><dd>{p.enabled ? "yes" : "no"}</dd>
            <dt>Credential</dt><dd>{p.has_api_key ? "stored (write-only)" : "none"}</dd>
            <dt>Timeout</dt><dd>{p.timeout_ms ? `${fmtInt(p.timeout_ms)} ms` : "none of its own"}</dd>
            <dt>Settings</dt><dd>{settings.length ? settings.map(([k, v]) => <div><span class="mono">{k}</span> = <span class="mono">{v}</span></div>) : <span class="muted">none</span>}</dd>
            <dt>Headers</dt><dd>{headers.length ? headers.map(([k, v]) => <div><span class="mono">{k}: {v}</span></div>) : <span class="muted">none</span>}</dd>
            <dt>Created</dt><dd>{fmtTime(p.created_at)}</dd>
            <dt>Updated</dt><dd>{fmtTime(p.updated_at)}</dd>
          </dl>
          <div>
            <h3>Health of its targets</h3>
            <Table
              label="Targets' circuit breakers"
              rows={health?.targets ?? []}
              rowKey={(b) => b.target_id}
              empty="No target of this provider has been routed to since the server started."
              columns={[
                { header: "Target", render: (b) => <span class="mono">{b.target_id}</span> },
                { header: "State", render: (b) => <StatusBadge status={b.state} /> },
                { header: "Consecutive failures", class: "num", render: (b) => fmtInt(b.consecutive_failures) },
                { header: "Opened", render: (b) => b.state === "closed" ? "—" : fmtAgo(b.opened_at) },
              ]}
            />
          </div>
          {props.test && <TestResult r={props.test} />}
          {session.isAdmin && (
            <div class="form-actions">
              <Button onClick={() => props.onDelete(p)}>Delete</Button>
              <Button onClick={() => props.onEdit(p)}>Edit</Button>
              <Button variant="primary" onClick={() => props.onTest(p)}>Test connection</Button>
            </div>
          )}
        </div>
      )}
    </Modal>
  );
}

// ------------------------------------------------------------ create/edit

function emptyForm(): ProviderForm {
  return { name: "", kind: "openai", base_url: "", api_key: "", remove_key: false, settings: [], headers: [], timeout_ms: "", enabled: true };
}

function formOf(p: Provider): ProviderForm {
  return {
    name: p.name, kind: p.kind, base_url: p.base_url ?? "", api_key: "", remove_key: false,
    settings: rowsOf(p.settings), headers: rowsOf(p.headers), timeout_ms: p.timeout_ms ? String(p.timeout_ms) : "", enabled: p.enabled,
  };
}

function ProviderDialog(props: { provider: Provider | "new" | null; onClose: () => void; onSaved: () => void }) {
  const existing = props.provider && props.provider !== "new" ? props.provider : null;
  const [f, setF] = useState<ProviderForm>(emptyForm);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.provider !== shownFor) {
    setShownFor(props.provider);
    setF(existing ? formOf(existing) : emptyForm());
    setErrors({});
  }
  const set = (patch: Partial<ProviderForm>) => setF((old) => ({ ...old, ...patch }));
  const info = infoOf(f.kind);

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs = validateProvider(f);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const body = providerBody(f, !!existing);
      if (existing) await api.patch(`/providers/${existing.id}`, body);
      else await api.post("/providers", body);
      toast(existing ? `Provider ${body.name} saved` : `Provider ${body.name} created`);
      props.onSaved();
    } catch (err) {
      setErrors(apiFieldErrors(err, f));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={existing ? `Edit provider ${existing.name}` : "New provider"} open={!!props.provider} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate class="prov-form">
        <FormError errors={errors} />
        <div class="grid-2">
          <Field label="Name" error={errors.name} hint="How models' targets and the call log name it.">
            <input class="input" name="name" value={f.name} maxLength={100} onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
          </Field>
          {/* Not a Field: a select inside its label would be named by its options too. */}
          <div class={`field ${errors.kind ? "has-error" : ""}`}>
            <label class="field-label" for="provider-kind">Kind</label>
            <select id="provider-kind" class="input" name="kind" value={f.kind} aria-describedby="provider-kind-hint" onChange={(e) => set({ kind: (e.target as HTMLSelectElement).value })}>
              {providerKinds.map((k) => <option value={k}>{k}</option>)}
            </select>
            {errors.kind ? <small class="field-error" role="alert">{errors.kind}</small> : <small class="hint" id="provider-kind-hint">{info?.hint}</small>}
          </div>
        </div>
        <Field
          label="Base URL"
          error={errors.base_url}
          hint={info?.defaultBaseURL ? <>Leave empty for the default, <span class="mono">{info.defaultBaseURL}</span>.</> : "Required for this kind."}
        >
          <input class="input mono" name="base_url" type="url" value={f.base_url} placeholder={info?.defaultBaseURL ?? (f.kind === "azure" ? "https://NAME.openai.azure.com" : "https://host/v1")} onInput={(e) => set({ base_url: (e.target as HTMLInputElement).value })} />
        </Field>
        <Field
          label="API key"
          error={errors.api_key}
          hint={existing?.has_api_key ? "A key is stored. Leave empty to keep the stored key." : existing ? "No key is stored. Leave empty for none." : "Sealed at rest and never shown again."}
        >
          <input class="input" name="api_key" type="password" autoComplete="new-password" value={f.api_key} disabled={f.remove_key} onInput={(e) => set({ api_key: (e.target as HTMLInputElement).value })} />
        </Field>
        {existing?.has_api_key && (
          <label class="checkbox prov-remove-key">
            <input type="checkbox" checked={f.remove_key} onChange={(e) => set({ remove_key: (e.target as HTMLInputElement).checked, api_key: "" })} />
            Remove stored key
          </label>
        )}
        <RowsEditor
          field="settings"
          title="Settings"
          rows={f.settings}
          errors={errors}
          onChange={(fn) => setF((old) => ({ ...old, settings: fn(old.settings) }))}
          known={info?.settings ?? []}
          help={info?.settings.length ? "Settings this kind reads:" : "This kind reads no settings."}
        />
        <RowsEditor
          field="headers"
          title="Custom headers"
          rows={f.headers}
          errors={errors}
          onChange={(fn) => setF((old) => ({ ...old, headers: fn(old.headers) }))}
          known={[]}
          help="Extra headers sent upstream, shown in clear: put credentials in the API key."
        />
        <div class="grid-2">
          <Field label="Timeout (ms)" error={errors.timeout_ms} hint="Bound of one upstream attempt; empty or 0 for none of its own.">
            <input class="input" name="timeout_ms" inputMode="numeric" value={f.timeout_ms} placeholder="0" onInput={(e) => set({ timeout_ms: (e.target as HTMLInputElement).value })} />
          </Field>
          <div class="field prov-enabled">
            <label class="checkbox">
              <input type="checkbox" name="enabled" checked={f.enabled} onChange={(e) => set({ enabled: (e.target as HTMLInputElement).checked })} />
              Enabled
            </label>
            <small class="hint">A disabled provider is skipped by routing.</small>
          </div>
        </div>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create provider"}</Button>
        </div>
      </form>
    </Modal>
  );
}

function RowsEditor(props: {
  field: "settings" | "headers";
  title: string;
  rows: KV[];
  errors: Errors;
  /** onChange applies fn to the rows. */
  onChange: (fn: (rows: KV[]) => KV[]) => void;
  known: { key: string; hint: string }[];
  help: string;
}) {
  const noun = props.field === "settings" ? "setting" : "header";
  const Noun = props.field === "settings" ? "Setting" : "Header";
  const update = (i: number, patch: Partial<KV>) => props.onChange((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const missing = props.known.filter((k) => !props.rows.some((r) => r.key.trim() === k.key));
  return (
    <fieldset class="prov-rows">
      <legend>{props.title}</legend>
      <p class="muted small prov-rows-help">
        {props.help}{" "}
        {props.known.map((k, i) => <>{i > 0 && "; "}<span class="mono">{k.key}</span> ({k.hint})</>)}
      </p>
      {props.errors[props.field] && <small class="field-error" role="alert">{props.errors[props.field]}</small>}
      {props.rows.map((r, i) => {
        const err = props.errors[`${props.field}.${i}`];
        const known = props.known.find((k) => k.key === r.key.trim());
        return (
          <div class={`prov-row ${err ? "has-error" : ""}`}>
            <input class="input mono" aria-label={`${Noun} ${i + 1} key`} placeholder={props.field === "settings" ? "name" : "Header-Name"} value={r.key} onInput={(e) => update(i, { key: (e.target as HTMLInputElement).value })} />
            <input class="input mono" aria-label={`${Noun} ${i + 1} value`} placeholder={known?.hint ?? "value"} value={r.value} onInput={(e) => update(i, { value: (e.target as HTMLInputElement).value })} />
            <Button variant="ghost" aria-label={`Remove ${noun} ${i + 1}`} onClick={() => props.onChange((rows) => rows.filter((_, j) => j !== i))}>Remove</Button>
            {err && <small class="field-error prov-row-error" role="alert">{err}</small>}
          </div>
        );
      })}
      <div class="actions">
        <Button onClick={() => props.onChange((rows) => [...rows, { key: "", value: "" }])}>Add {noun}</Button>
        {missing.map((k) => (
          <Button variant="ghost" aria-label={`Add ${noun} ${k.key}`} onClick={() => props.onChange((rows) => [...rows, { key: k.key, value: "" }])}>+ {k.key}</Button>
        ))}
      </div>
    </fieldset>
  );
}
