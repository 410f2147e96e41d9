// Services: what consumers subscribe to — a set of models with an approval
// mode, limits and call-log settings, owned by a team. The list (search,
// team filter and page in the URL), a create/edit dialog, and a detail
// view at /services/:id with the service's prompts and subscriptions.
import { useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api } from "../api/client";
import type { Model, Page, Prompt, Service } from "../api/types";
import { confirmDelete, Modal, toast } from "../components/dialog";
import { Badge, Button, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, Spinner, submitErrors, Table, type Errors } from "../components/ui";
import { limitsSummary, loggingSummary, serviceBody, serviceFields, serviceForm, slugify, useTeams, validateService, type ServiceForm, type TeamChoice } from "../lib/access";
import { fmtTime } from "../lib/format";
import { useQueryParams, useResource } from "../lib/hooks";
import { session } from "../lib/session";
import { FilterSelect, SelectField, SubscriptionList } from "./Subscriptions";
import "./access.css";

const PER_PAGE = 20;

export default function Services() {
  const params = useParams<{ id?: string }>();
  return params.id ? <ServiceDetail id={Number(params.id)} /> : <ServiceList />;
}

function ApprovalBadge(props: { approval: string }) {
  return props.approval === "auto"
    ? <Badge tone="green" title="Subscriptions are approved at once">auto</Badge>
    : <Badge tone="amber" title="Every subscription waits in the approval queue">manual</Badge>;
}

function modelNames(s: Service): string {
  return s.models?.length ? s.models.map((m) => m.name).join(", ") : "";
}

function deleteService(s: Service): Promise<boolean> {
  return confirmDelete({
    title: "Delete service",
    message: <>Delete <b>{s.name}</b> (<code>{s.slug}</code>)? Its subscriptions are deleted too and its consumers lose access at once.</>,
    confirmLabel: "Delete service",
    path: `/services/${s.id}`,
    done: `Service ${s.name} deleted`,
  });
}

function ServiceList() {
  const [q, setQ] = useQueryParams();
  const [, navigate] = useLocation();
  const page = Number(q.page ?? 1) || 1;
  const teams = useTeams();
  const list = useResource(
    (signal) => api.get<Page<Service>>("/services", { q: q.q, team_id: q.team_id, page, per_page: PER_PAGE }, signal),
    [q.q, q.team_id, page],
  );
  const [editing, setEditing] = useState<Service | "new" | null>(null);
  const canCreate = session.isAdmin || teams.teams.length > 0;

  return (
    <>
      <PageHeader
        title="Services"
        subtitle="What consumers subscribe to: a set of models with an approval mode, limits and call logging."
        actions={canCreate && <Button variant="primary" onClick={() => setEditing("new")}>New service</Button>}
      />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search name or slug" label="Search services" />
        {session.isAdmin && <TeamFilter teams={teams} value={q.team_id ?? ""} onChange={(v) => setQ({ team_id: v })} />}
      </div>
      <ErrorBanner error={list.error} />
      <div class="access-table wide"><Table
        label="Services"
        rows={list.data?.data}
        loading={list.loading}
        rowKey={(s) => s.id}
        onRow={(s) => navigate(`/services/${s.id}`)}
        empty={q.q || q.team_id ? "No services match." : "No services yet. Create one to let consumers subscribe to models."}
        columns={[
          { header: "Service", render: (s) => <><Link href={`/services/${s.id}`}><b>{s.name}</b></Link><div class="mono muted small">{s.slug}</div></> },
          { header: "Team", render: (s) => teams.name(s.team_id) },
          { header: "Approval", render: (s) => <ApprovalBadge approval={s.approval} /> },
          { header: "Models", class: "models", render: (s) => modelNames(s) || <span class="muted">none</span> },
          { header: "Limits", render: (s) => limitsSummary(s.limits) },
          { header: "Call logging", render: (s) => loggingSummary(s) },
          { header: "", class: "right", render: (s) => (
            <span class="row-actions nowrap">
              <Button variant="ghost" onClick={() => setEditing(s)}>Edit</Button>
              <Button variant="ghost" onClick={async () => (await deleteService(s)) && list.reload()}>Delete</Button>
            </span>
          ) },
        ]}
      /></div>
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
      <ServiceDialog service={editing} teams={teams} onClose={() => setEditing(null)} onSaved={(s, created) => { setEditing(null); if (created) navigate(`/services/${s.id}`); else list.reload(); }} />
    </>
  );
}

export function TeamFilter(props: { teams: TeamChoice; value: string; onChange: (v: string) => void }) {
  return (
    <FilterSelect label="Owned by" value={props.value} onChange={props.onChange}>
      <option value="">All teams</option>
      {props.teams.teams.map((t) => <option value={t.id}>{t.name}</option>)}
    </FilterSelect>
  );
}

function ServiceDetail(props: { id: number }) {
  const [, navigate] = useLocation();
  const svc = useResource((signal) => api.get<Service>(`/services/${props.id}`, undefined, signal), [props.id]);
  const teams = useTeams();
  const [promptPage, setPromptPage] = useState(1);
  const prompts = useResource(
    (signal) => api.get<Page<Prompt>>("/prompts", { service_id: props.id, page: promptPage, per_page: 10 }, signal),
    [props.id, promptPage],
  );
  const [editing, setEditing] = useState<Service | null>(null);
  const s = svc.data;

  if (!s) {
    return (
      <>
        <p class="crumbs"><Link href="/services">← Services</Link></p>
        <ErrorBanner error={svc.error} title="Cannot load the service" />
        {svc.loading && <Spinner />}
      </>
    );
  }
  return (
    <>
      <p class="crumbs"><Link href="/services">← Services</Link></p>
      <PageHeader
        title={s.name}
        subtitle={<><code>{s.slug}</code> · {teams.name(s.team_id)}</>}
        actions={
          <>
            <Button onClick={() => setEditing(s)}>Edit</Button>
            <Button variant="danger" onClick={async () => (await deleteService(s)) && navigate("/services")}>Delete</Button>
          </>
        }
      />
      <ErrorBanner error={svc.error} />
      <div class="detail-grid">
        <section class="card" aria-labelledby="svc-settings">
          <h2 id="svc-settings">Settings</h2>
          <dl class="kv">
            <dt>Description</dt><dd>{s.description || <span class="muted">—</span>}</dd>
            <dt>Team</dt><dd>{teams.name(s.team_id)}</dd>
            <dt>Approval</dt><dd><ApprovalBadge approval={s.approval} /> {s.approval === "manual" ? "every subscription waits in the approval queue" : "subscriptions are approved at once"}</dd>
            <dt>Models</dt><dd>{s.models?.length ? <ul class="plain">{s.models.map((m) => <li><Link href={`/models/${m.id}`}>{m.name}</Link></li>)}</ul> : <span class="muted">none — calls through this service find no model</span>}</dd>
            <dt>Requests/min</dt><dd>{s.limits?.rpm ? s.limits.rpm.toLocaleString("en-US") : "unlimited"}</dd>
            <dt>Tokens/min</dt><dd>{s.limits?.tpm ? s.limits.tpm.toLocaleString("en-US") : "unlimited"}</dd>
            <dt>Tokens/month</dt><dd>{s.limits?.monthly_tokens ? s.limits.monthly_tokens.toLocaleString("en-US") : "unlimited"}</dd>
            <dt>Call logging</dt><dd>{s.log_bodies ? "request and response bodies" : "metadata only (no bodies)"}</dd>
            {s.log_bodies && <><dt>Redacted</dt><dd>{s.redact_fields?.length ? s.redact_fields.map((f) => <code class="chip">{f}</code>) : <span class="muted">credentials only</span>}</dd></>}
            <dt>Retention</dt><dd>{s.log_retention_days ? `${s.log_retention_days} days` : "kept forever"}</dd>
            <dt>Created</dt><dd>{fmtTime(s.created_at)}</dd>
            <dt>Updated</dt><dd>{fmtTime(s.updated_at)}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="svc-prompts">
          <h2 id="svc-prompts">Prompts</h2>
          <ErrorBanner error={prompts.error} />
          <div class="access-table compact"><Table
            label="Prompts"
            rows={prompts.data?.data}
            loading={prompts.loading}
            rowKey={(p) => p.id}
            onRow={(p) => navigate(`/prompts/${p.id}`)}
            empty="No prompts use this service."
            columns={[
              { header: "Prompt", render: (p) => <><Link href={`/prompts/${p.id}`}>{p.name}</Link><div class="mono muted small">{p.slug}</div></> },
              { header: "Published", render: (p) => (p.published_version ? `v${p.published_version}` : <span class="muted">draft</span>) },
            ]}
          /></div>
          {prompts.data && <Pager page={promptPage} perPage={10} total={prompts.data.total} onPage={setPromptPage} />}
        </section>
      </div>
      <section class="subsection" aria-labelledby="svc-subs">
        <h2 id="svc-subs">Subscriptions</h2>
        <SubscriptionList service_id={s.id} hide="service" />
      </section>
      <ServiceDialog service={editing} teams={teams} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); svc.reload(); }} />
    </>
  );
}

/** ServiceDialog creates a service ("new") or edits one. */
function ServiceDialog(props: { service: Service | "new" | null; teams: TeamChoice; onClose: () => void; onSaved: (s: Service, created: boolean) => void }) {
  const existing = props.service && props.service !== "new" ? props.service : null;
  const [f, setF] = useState<ServiceForm>(serviceForm());
  const [slugTouched, setSlugTouched] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  const onlyTeam = props.teams.teams.length === 1 ? props.teams.teams[0].id : undefined;
  if (props.service !== shownFor) {
    setShownFor(props.service);
    setF(serviceForm(existing, onlyTeam));
    setSlugTouched(!!existing);
    setErrors({});
  }
  const set = (patch: Partial<ServiceForm>) => setF((old) => ({ ...old, ...patch }));
  const val = (e: Event) => (e.target as HTMLInputElement).value;

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const bad = validateService(f);
    setErrors(bad);
    if (Object.keys(bad).length) return focusFirstError(form);
    setBusy(true);
    try {
      const body = serviceBody(f);
      const saved = existing ? await api.patch<Service>(`/services/${existing.id}`, body) : await api.post<Service>("/services", body);
      toast(existing ? `Service ${saved.name} saved` : `Service ${saved.name} created`);
      props.onSaved(saved, !existing);
    } catch (err) {
      setErrors(submitErrors(err, serviceFields));
      focusFirstError(form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={existing ? `Edit ${existing.name}` : "New service"} open={!!props.service} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate class="service-form">
        <FormError errors={errors} />
        <div class="form-grid">
          <Field label="Name" error={errors.name}>
            <input class="input" name="name" value={f.name} maxLength={200} autoFocus
              onInput={(e) => set(slugTouched ? { name: val(e) } : { name: val(e), slug: slugify(val(e)) })} />
          </Field>
          <Field label="Slug" error={errors.slug} hint={existing ? "Consumers name the service by its slug when they subscribe; changing it breaks their requests." : <>Consumers subscribe with <code>{`{"service":"${f.slug || "slug"}"}`}</code>.</>}>
            <input class="input mono" name="slug" value={f.slug} maxLength={63} autoComplete="off" spellcheck={false}
              onInput={(e) => { setSlugTouched(true); set({ slug: val(e) }); }} />
          </Field>
        </div>
        <Field label="Description" error={errors.description}>
          <textarea class="input prose" name="description" rows={2} value={f.description} onInput={(e) => set({ description: val(e) })} />
        </Field>
        <SelectField label="Team" name="team_id" value={f.team_id} onChange={(v) => set({ team_id: v })} error={errors.team_id} hint={session.isAdmin ? undefined : "Only your teams are listed."}>
          <option value="">Pick a team…</option>
          {props.teams.teams.map((t) => <option value={t.id}>{t.name}</option>)}
        </SelectField>
        <fieldset class="fieldset">
          <legend>Approval</legend>
          <label class="radio">
            <input type="radio" name="approval" value="manual" checked={f.approval === "manual"} onChange={() => set({ approval: "manual" })} />
            <span><b>Manual</b> — every subscription waits in the approval queue for a decision</span>
          </label>
          <label class="radio">
            <input type="radio" name="approval" value="auto" checked={f.approval === "auto"} onChange={() => set({ approval: "auto" })} />
            <span><b>Automatic</b> — subscriptions are approved at once</span>
          </label>
          {errors.approval && <small class="field-error" role="alert">{errors.approval}</small>}
        </fieldset>
        <ModelPicker value={f.model_ids} onChange={(ids) => set({ model_ids: ids })} error={errors.model_ids} />
        <fieldset class="fieldset">
          <legend>Limits <span class="muted small">(per consumer; empty or 0 is unlimited)</span></legend>
          {errors.limits && <small class="field-error" role="alert">{errors.limits}</small>}
          <div class="form-grid three">
            <Field label="Requests per minute" error={errors["limits.rpm"]}>
              <input class="input" name="rpm" type="number" min={0} step={1} inputMode="numeric" value={f.rpm} onInput={(e) => set({ rpm: val(e) })} />
            </Field>
            <Field label="Tokens per minute" error={errors["limits.tpm"]}>
              <input class="input" name="tpm" type="number" min={0} step={1} inputMode="numeric" value={f.tpm} onInput={(e) => set({ tpm: val(e) })} />
            </Field>
            <Field label="Tokens per month" error={errors["limits.monthly_tokens"]}>
              <input class="input" name="monthly_tokens" type="number" min={0} step={1} inputMode="numeric" value={f.monthly_tokens} onInput={(e) => set({ monthly_tokens: val(e) })} />
            </Field>
          </div>
        </fieldset>
        <fieldset class="fieldset">
          <legend>Call log</legend>
          <label class="checkbox">
            <input type="checkbox" name="log_bodies" checked={f.log_bodies} onChange={(e) => set({ log_bodies: (e.target as HTMLInputElement).checked })} />
            Log request and response bodies
          </label>
          <p class="muted small">Bodies are capped at 60,000 bytes; credentials are always redacted.</p>
          {f.log_bodies && (
            <Field label="Redacted fields" error={errors.redact_fields} hint={<>One JSON path per line, stored as "[redacted]": keys joined by dots, <code>#</code> for every array element, e.g. <code>messages.#.content</code>.</>}>
              <textarea class="input" name="redact_fields" rows={3} value={f.redact_fields} spellcheck={false} onInput={(e) => set({ redact_fields: val(e) })} />
            </Field>
          )}
          <Field label="Retention (days)" error={errors.log_retention_days} hint="How long the service's call-log rows are kept; empty or 0 keeps them forever.">
            <input class="input narrow" name="log_retention_days" type="number" min={0} max={3650} step={1} inputMode="numeric" value={f.log_retention_days} onInput={(e) => set({ log_retention_days: val(e) })} />
          </Field>
        </fieldset>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create service"}</Button>
        </div>
      </form>
    </Modal>
  );
}

/** focusFirstError moves focus to the first field showing an error once it renders (the form is long). */
function focusFirstError(form: HTMLFormElement) {
  setTimeout(() => {
    const control = form.querySelector<HTMLElement>(".has-error input, .has-error select, .has-error textarea");
    if (control) control.focus();
    else form.querySelector("[role=alert]")?.scrollIntoView({ block: "nearest" });
  }, 0);
}

/** ModelPicker: a filterable checkbox list of the gateway's models. */
function ModelPicker(props: { value: number[]; onChange: (ids: number[]) => void; error?: string }) {
  const models = useResource((signal) => api.get<Page<Model>>("/models", { per_page: 200 }, signal), []);
  const [filter, setFilter] = useState("");
  const all = models.data?.data ?? [];
  const shown = all.filter((m) => m.name.toLowerCase().includes(filter.trim().toLowerCase()));
  const toggle = (id: number, on: boolean) => props.onChange(on ? [...props.value, id] : props.value.filter((x) => x !== id));
  return (
    <fieldset class="fieldset">
      <legend>Models <span class="muted small">({props.value.length} selected)</span></legend>
      {all.length > 8 && (
        <input type="search" class="input model-filter" aria-label="Filter models" placeholder="Filter models…" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      )}
      <ErrorBanner error={models.error} />
      {models.loading && !models.data && <Spinner small label="Loading models" />}
      {models.data && all.length === 0 && <p class="muted small">No models yet: add them under <Link href="/models">Models &amp; routes</Link>.</p>}
      <div class="model-picker">
        {shown.map((m) => (
          <label class="checkbox">
            <input type="checkbox" checked={props.value.includes(m.id)} onChange={(e) => toggle(m.id, (e.target as HTMLInputElement).checked)} />
            {m.name}
          </label>
        ))}
      </div>
      {props.error && <small class="field-error" role="alert">{props.error}</small>}
    </fieldset>
  );
}
