// Models & routes: the public model names clients ask for, each routed to
// one or more provider targets by priority and weight, with prices per
// million tokens. A list with search and pages in the URL, a detail view at
// /models/:id with each target's share and breaker state, and (admins)
// create/edit with a targets editor and a live share preview.
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { useLocation, useParams, useSearch } from "wouter-preact";
import { api } from "../api/client";
import type { Breaker, Model, ModelTarget, Page, Provider } from "../api/types";
import { confirmDelete, Modal, toast } from "../components/dialog";
import { Badge, Button, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, Spinner, StatusBadge, Table, type Errors } from "../components/ui";
import { fmtAgo, fmtInt, fmtTime } from "../lib/format";
import { useInterval, useQueryParams, useResource, useSession } from "../lib/hooks";
import {
  fmtPrice, fmtShare, modelApiErrors, modelBody, move, remapRowErrors, shareGroups, validateModel,
  type ModelForm, type ShareGroup, type TargetRow,
} from "../lib/models";
import { session } from "../lib/session";
import "./models.css";

const PER_PAGE = 20;

export default function Models() {
  useSession();
  const isAdmin = session.isAdmin;
  const [q, setQ] = useQueryParams();
  const params = useParams<{ id?: string }>();
  const search = useSearch();
  const [, navigate] = useLocation();
  const page = Number(q.page ?? 1) || 1;
  const list = useResource((signal) => api.get<Page<Model>>("/models", { q: q.q, page, per_page: PER_PAGE }, signal), [q.q, page]);
  const [editing, setEditing] = useState<Model | "new" | null>(null);
  const [actionError, setActionError] = useState<{ title: string; error: Error } | null>(null);
  const qs = search ? "?" + search : "";
  const openId = params.id ? Number(params.id) : null;
  const closeDetail = () => navigate(`/models${qs}`);

  const remove = async (m: Model) => {
    const deleted = await confirmDelete({
      title: "Delete model",
      message: <>Delete <b>{m.name}</b> and its routes? Clients asking for it will get an unknown-model error. A model that a service offers cannot be deleted.</>,
      confirmLabel: "Delete model",
      path: `/models/${m.id}`,
      done: `Model ${m.name} deleted`,
      onError: (error) => setActionError({ title: `Cannot delete ${m.name}`, error }),
    });
    if (deleted) {
      setActionError(null);
      list.reload();
    }
    return deleted;
  };

  return (
    <>
      <PageHeader
        title="Models & routes"
        subtitle="The model names clients ask for, and the provider targets each is routed to."
        actions={isAdmin && <Button variant="primary" onClick={() => setEditing("new")}>New model</Button>}
      />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search models" label="Search models" />
      </div>
      <ErrorBanner error={list.error} />
      {actionError && <ErrorBanner error={actionError.error} title={actionError.title} />}
      <Table
        label="Models"
        rows={list.data?.data}
        loading={list.loading}
        rowKey={(m) => m.id}
        onRow={(m) => navigate(`/models/${m.id}${qs}`)}
        empty={q.q ? "No models match." : isAdmin ? "No models yet: add one with New model." : "No models yet."}
        columns={[
          { header: "Name", render: (m) => <b class="mono">{m.name}</b> },
          { header: "Targets", render: (m) => <TargetsSummary targets={m.targets ?? []} /> },
          { header: "Input / 1M", class: "num", render: (m) => fmtPrice(m.input_price) },
          { header: "Output / 1M", class: "num", render: (m) => fmtPrice(m.output_price) },
          { header: "", class: "right", render: (m) => isAdmin && (
            <span class="row-actions mdl-actions">
              <Button variant="ghost" aria-label={`Edit ${m.name}`} onClick={() => setEditing(m)}>Edit</Button>
              <Button variant="ghost" aria-label={`Delete ${m.name}`} onClick={() => remove(m)}>Delete</Button>
            </span>
          ) },
        ]}
      />
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
      <ModelDialog model={editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); list.reload(); }} />
      {openId !== null && !editing && (
        <Detail id={openId} onClose={closeDetail} onEdit={setEditing} onDelete={async (m) => { if (await remove(m)) closeDetail(); }} />
      )}
    </>
  );
}

/** groupLabel names a priority group by its place in the routing order. */
export function groupLabel(i: number): string {
  return i === 0 ? "primary" : `fallback ${i}`;
}

export function TargetsSummary(props: { targets: ModelTarget[] }) {
  if (props.targets.length === 0) return <span class="muted">no targets: requests fail</span>;
  const groups = shareGroups(props.targets);
  return (
    <div class="mdl-summary">
      {groups.map((g, gi) => (
        <div class="mdl-summary-group">
          <Badge tone={gi === 0 ? "blue" : "gray"} title={`priority ${g.priority}`}>{groupLabel(gi)}</Badge>{" "}
          {g.targets.map((t, i) => (
            <Fragment key={t.index}>
              {i > 0 && ", "}
              <span class="mono">{t.target.provider_name}/{t.target.upstream_model}</span>
              {g.targets.length > 1 && <span class="muted small"> {fmtShare(t.share)} (w{t.weight})</span>}
            </Fragment>
          ))}
        </div>
      ))}
    </div>
  );
}

// ---------------------------------------------------------------- detail

function Detail(props: { id: number; onClose: () => void; onEdit: (m: Model) => void; onDelete: (m: Model) => void }) {
  const r = useResource((signal) => api.get<Model>(`/models/${props.id}`, undefined, signal), [props.id]);
  const breakers = useResource((signal) => api.get<{ data: Breaker[] }>("/breakers", undefined, signal), []);
  useInterval(breakers.reload, 10_000);
  const m = r.data;
  const byTarget = new Map((breakers.data?.data ?? []).map((b) => [b.target_id, b]));
  const groups = shareGroups(m?.targets ?? []);
  const rows = groups.flatMap((g, gi) => g.targets.map((t) => ({ ...t, group: gi, priority: g.priority })));
  return (
    <Modal title={m ? `Model ${m.name}` : "Model"} open onClose={props.onClose} wide>
      <ErrorBanner error={r.error} />
      {!m && r.loading && <Spinner />}
      {m && (
        <div class="stack">
          <dl class="kv">
            <dt>Input price</dt><dd>{fmtPrice(m.input_price)} per million tokens</dd>
            <dt>Output price</dt><dd>{fmtPrice(m.output_price)} per million tokens</dd>
            <dt>Created</dt><dd>{fmtTime(m.created_at)}</dd>
            <dt>Updated</dt><dd>{fmtTime(m.updated_at)}</dd>
          </dl>
          <div>
            <h3>Routes</h3>
            <RoutingNote />
            <Table
              label="Routes"
              rows={rows}
              rowKey={(t) => t.index}
              empty="No targets: requests for this model fail."
              columns={[
                { header: "Order", render: (t) => <Badge tone={t.group === 0 ? "blue" : "gray"}>{groupLabel(t.group)}</Badge> },
                { header: "Provider", render: (t) => t.target.provider_name },
                { header: "Upstream model", render: (t) => <span class="mono">{t.target.upstream_model}</span> },
                { header: "Weight", class: "num", render: (t) => fmtInt(t.weight) },
                { header: "Priority", class: "num", render: (t) => t.priority },
                { header: "Share", class: "num", render: (t) => fmtShare(t.share) },
                { header: "Health", render: (t) => {
                  const b = byTarget.get(`${t.target.provider_name}/${t.target.upstream_model}`);
                  if (!b) return <span class="muted small">no traffic yet</span>;
                  return <><StatusBadge status={b.state} />{b.consecutive_failures > 0 && <span class="small"> {b.consecutive_failures} failures</span>}{b.state !== "closed" && b.opened_at && <span class="small muted"> · opened {fmtAgo(b.opened_at)}</span>}</>;
                } },
              ]}
            />
          </div>
          {session.isAdmin && (
            <div class="form-actions">
              <Button onClick={() => props.onDelete(m)}>Delete</Button>
              <Button variant="primary" onClick={() => props.onEdit(m)}>Edit</Button>
            </div>
          )}
        </div>
      )}
    </Modal>
  );
}

function RoutingNote() {
  return (
    <p class="muted small mdl-note">
      Each request goes to a healthy target of the best priority (the lowest number, 0 first), chosen at random by weight.
      Targets of later priorities are fallbacks, used only when every target before them is unhealthy or fails.
    </p>
  );
}

// ------------------------------------------------------------ create/edit

const emptyTarget = (): TargetRow => ({ provider_id: "", upstream_model: "", weight: "1", priority: "0" });

function formOf(m: Model | null): ModelForm {
  if (!m) return { name: "", input_price: "", output_price: "", targets: [emptyTarget()] };
  return {
    name: m.name,
    input_price: String(m.input_price ?? 0),
    output_price: String(m.output_price ?? 0),
    targets: (m.targets ?? []).map((t) => ({ provider_id: String(t.provider_id), upstream_model: t.upstream_model, weight: String(t.weight), priority: String(t.priority) })),
  };
}

function ModelDialog(props: { model: Model | "new" | null; onClose: () => void; onSaved: () => void }) {
  const existing = props.model && props.model !== "new" ? props.model : null;
  const [f, setF] = useState<ModelForm>(() => formOf(null));
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.model !== shownFor) {
    setShownFor(props.model);
    setF(formOf(existing));
    setErrors({});
  }
  const providers = useResource(
    (signal) => (props.model ? api.get<Page<Provider>>("/providers", { per_page: 200 }, signal) : Promise.resolve(undefined)),
    [!!props.model],
  );
  const set = (patch: Partial<ModelForm>) => setF((old) => ({ ...old, ...patch }));

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs = validateModel(f);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const body = modelBody(f);
      if (existing) await api.patch(`/models/${existing.id}`, body);
      else await api.post("/models", body);
      toast(existing ? `Model ${body.name} saved` : `Model ${body.name} created`);
      props.onSaved();
    } catch (err) {
      setErrors(modelApiErrors(err));
    } finally {
      setBusy(false);
    }
  };

  // Provider choices: every provider, plus any a target names that the
  // list does not hold (so an edit never loses a target).
  const choices: { id: string; name: string; enabled: boolean }[] = (providers.data?.data ?? []).map((p) => ({ id: String(p.id), name: p.name, enabled: p.enabled }));
  for (const t of existing?.targets ?? []) {
    if (!choices.some((c) => c.id === String(t.provider_id))) choices.push({ id: String(t.provider_id), name: t.provider_name, enabled: true });
  }

  return (
    <Modal title={existing ? `Edit model ${existing.name}` : "New model"} open={!!props.model} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate class="mdl-form">
        <FormError errors={errors} />
        <Field label="Name" error={errors.name} hint="The public name clients send as model, e.g. gpt-4o.">
          <input class="input mono" name="name" value={f.name} maxLength={200} onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
        </Field>
        <div class="grid-2">
          <Field label="Input price (USD per 1M tokens)" error={errors.input_price} hint="Used for cost in the call log and analytics.">
            <input class="input" name="input_price" inputMode="decimal" placeholder="0" value={f.input_price} onInput={(e) => set({ input_price: (e.target as HTMLInputElement).value })} />
          </Field>
          <Field label="Output price (USD per 1M tokens)" error={errors.output_price}>
            <input class="input" name="output_price" inputMode="decimal" placeholder="0" value={f.output_price} onInput={(e) => set({ output_price: (e.target as HTMLInputElement).value })} />
          </Field>
        </div>
        <TargetsEditor
          rows={f.targets}
          errors={errors}
          choices={choices}
          loadingChoices={providers.loading}
          choicesError={providers.error}
          onChange={(fn, order) => {
            setF((old) => ({ ...old, targets: fn(old.targets) }));
            if (order) setErrors((errs) => remapRowErrors(errs, order));
          }}
        />
        <SharePreview groups={shareGroups(f.targets)} nameOf={(id) => choices.find((c) => c.id === id)?.name ?? "(no provider)"} />
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create model"}</Button>
        </div>
      </form>
    </Modal>
  );
}

const fieldNames = ["provider_id", "upstream_model", "weight", "priority"];
const fieldLabel: Record<string, string> = { provider_id: "Provider", upstream_model: "Upstream model", weight: "Weight", priority: "Priority" };

function TargetsEditor(props: {
  rows: TargetRow[];
  errors: Errors;
  choices: { id: string; name: string; enabled: boolean }[];
  loadingChoices: boolean;
  choicesError?: Error;
  /** onChange applies fn to the rows; order maps new row → old row after a move or removal. */
  onChange: (fn: (rows: TargetRow[]) => TargetRow[], order?: number[]) => void;
}) {
  const { rows, errors } = props;
  const update = (i: number, patch: Partial<TargetRow>) => props.onChange((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const idx = rows.map((_, i) => i);
  const moveRow = (i: number, d: number) => props.onChange((rs) => move(rs, i, d), move(idx, i, d));
  const removeRow = (i: number) => props.onChange((rs) => rs.filter((_, j) => j !== i), idx.filter((j) => j !== i));
  const err = (i: number, k: string) => errors[`targets[${i}].${k}`];
  const invalid = (i: number, k: string) => err(i, k) ? { "aria-invalid": true as const, "aria-describedby": `target-${i}-errors` } : {};
  return (
    <fieldset class="mdl-targets">
      <legend>Targets</legend>
      <RoutingNote />
      <ErrorBanner error={props.choicesError} title="Providers could not be loaded" />
      {errors.targets && <small class="field-error" role="alert">{errors.targets}</small>}
      {rows.length > 0 && (
        <div class="mdl-target-head" aria-hidden="true">
          <span>#</span><span>Provider</span><span>Upstream model</span><span>Weight</span><span>Priority</span><span />
        </div>
      )}
      {rows.map((r, i) => {
        const n = i + 1;
        const rowErr = errors[`targets[${i}]`];
        return (
          <div class="mdl-target" data-row={i}>
            <span class="mdl-target-n" aria-hidden="true">{n}</span>
            <div class={`mdl-cell ${err(i, "provider_id") ? "has-error" : ""}`}>
              <span class="mdl-cell-label" aria-hidden="true">Provider</span>
              <select class="input" {...invalid(i, "provider_id")} aria-label={`Provider of target ${n}`} value={r.provider_id} onChange={(e) => update(i, { provider_id: (e.target as HTMLSelectElement).value })}>
                <option value="">{props.loadingChoices ? "Loading providers…" : "Choose a provider…"}</option>
                {props.choices.map((c) => <option value={c.id}>{c.enabled ? c.name : `${c.name} (disabled)`}</option>)}
              </select>
            </div>
            <div class={`mdl-cell ${err(i, "upstream_model") ? "has-error" : ""}`}>
              <span class="mdl-cell-label" aria-hidden="true">Upstream model</span>
              <input class="input mono" {...invalid(i, "upstream_model")} aria-label={`Upstream model of target ${n}`} placeholder="e.g. gpt-4o-2024-08-06" value={r.upstream_model} onInput={(e) => update(i, { upstream_model: (e.target as HTMLInputElement).value })} />
            </div>
            <div class={`mdl-cell ${err(i, "weight") ? "has-error" : ""}`}>
              <span class="mdl-cell-label" aria-hidden="true">Weight</span>
              <input class="input" type="number" min={1} step={1} {...invalid(i, "weight")} aria-label={`Weight of target ${n}`} value={r.weight} onInput={(e) => update(i, { weight: (e.target as HTMLInputElement).value })} />
            </div>
            <div class={`mdl-cell ${err(i, "priority") ? "has-error" : ""}`}>
              <span class="mdl-cell-label" aria-hidden="true">Priority</span>
              <input class="input" type="number" min={0} step={1} {...invalid(i, "priority")} aria-label={`Priority of target ${n}`} value={r.priority} onInput={(e) => update(i, { priority: (e.target as HTMLInputElement).value })} />
            </div>
            <span class="mdl-target-actions">
              <button type="button" class="icon-btn" aria-label={`Move target ${n} up`} disabled={i === 0} onClick={() => moveRow(i, -1)}>↑</button>
              <button type="button" class="icon-btn" aria-label={`Move target ${n} down`} disabled={i === rows.length - 1} onClick={() => moveRow(i, 1)}>↓</button>
              <button type="button" class="icon-btn" aria-label={`Remove target ${n}`} onClick={() => removeRow(i)}>×</button>
            </span>
            {(rowErr || fieldNames.some((k) => err(i, k))) && (
              <ul class="mdl-row-errors" id={`target-${i}-errors`}>
                {rowErr && <li class="field-error" role="alert">{rowErr}</li>}
                {fieldNames.map((k) => err(i, k) && <li class="field-error" role="alert"><b>{fieldLabel[k]}:</b> {err(i, k)}</li>)}
              </ul>
            )}
          </div>
        );
      })}
      <div class="actions">
        <Button onClick={() => props.onChange((rs) => [...rs, { ...emptyTarget(), priority: rs.length ? rs[rs.length - 1].priority || "0" : "0" }])} disabled={rows.length >= 50}>Add target</Button>
      </div>
    </fieldset>
  );
}

export function SharePreview(props: { groups: ShareGroup<TargetRow>[]; nameOf: (providerID: string) => string }) {
  return (
    <section class="mdl-share" aria-label="Traffic share">
      <h3>Traffic share</h3>
      {props.groups.length === 0 && <p class="muted small">Give targets a weight of 1 or more to see how traffic is split.</p>}
      {props.groups.map((g, gi) => (
        <div class="mdl-share-group">
          <div class="mdl-share-title">
            <b>Priority {g.priority}</b>{" "}
            <span class="muted small">{gi === 0 ? "— tried first" : `— fallback ${gi}: used when every target above is unhealthy`}</span>
          </div>
          <ul class="mdl-share-list">
            {g.targets.map((t) => (
              <li class="mdl-share-item">
                <span class="mdl-share-name">
                  <span class="muted">#{t.index + 1}</span> {props.nameOf(t.target.provider_id)} / <span class="mono">{t.target.upstream_model.trim() || "…"}</span>
                </span>
                <span class="mdl-bar" aria-hidden="true"><span style={{ width: `${(t.share * 100).toFixed(2)}%` }} /></span>
                <span class="mdl-share-pct">{fmtShare(t.share)}</span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}
