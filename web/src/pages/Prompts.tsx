// Prompts: saved templates served at POST /v1/prompts/{slug}. A list with
// search, service filter and pages in the URL; a detail page at
// /prompts/:id with an editor (placeholders highlighted, variables schema,
// parameters), a streamed test run of any saved version, and the versions
// with a diff, publish, rollback and unpublish.
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, ApiError, raw } from "../api/client";
import type { Model, Page, Prompt, PromptDiff, PromptTestRun, PromptVersion, Service } from "../api/types";
import { confirm, confirmDelete, Modal, toast } from "../components/dialog";
import {
  Badge, Button, CopyButton, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, Spinner, submitErrors, Table, Tabs, type Errors,
} from "../components/ui";
import { fmtAgo, fmtInt, fmtMs, fmtTime } from "../lib/format";
import { useQueryParams, useResource } from "../lib/hooks";
import {
  checkDraft, dataPlaneURL, defaultOverrides, diffLines, draftFrom, errorKey, placeholders, readEvents, roles, schemaRows,
  segments, showValue, slugify, slugRE, testVariables, varTypes, type Draft, type DraftErrors, type Role, type VarRow, type VarType,
} from "../lib/prompt";
import "./prompts.css";

const PER_PAGE = 20;
const VERSIONS_PER_PAGE = 20;

export default function Prompts() {
  const params = useParams<{ id?: string }>();
  if (params.id) return <PromptDetail id={Number(params.id)} />;
  return <PromptList />;
}

function useServices() {
  return useResource((signal) => api.get<Page<Service>>("/services", { per_page: 200 }, signal), []);
}

function PromptList() {
  const [q, setQ] = useQueryParams();
  const [, navigate] = useLocation();
  const page = Number(q.page ?? 1) || 1;
  const list = useResource(
    (signal) => api.get<Page<Prompt>>("/prompts", { q: q.q, service_id: q.service_id, page, per_page: PER_PAGE }, signal),
    [q.q, q.service_id, page],
  );
  const services = useServices();
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader
        title="Prompts"
        subtitle="Saved templates that callers reach at POST /v1/prompts/{slug}. Versions are immutable; publishing one makes it live."
        actions={<Button variant="primary" onClick={() => setCreating(true)}>New prompt</Button>}
      />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search by name or slug" label="Search prompts" />
        <label class="sr-only" for="prompt-service-filter">Service</label>
        <select id="prompt-service-filter" class="input" value={q.service_id ?? ""} onChange={(e) => setQ({ service_id: (e.target as HTMLSelectElement).value })}>
          <option value="">All services</option>
          {services.data?.data.map((s) => <option value={s.id}>{s.name} ({s.slug})</option>)}
        </select>
      </div>
      <ErrorBanner error={list.error} />
      <Table
        label="Prompts"
        rows={list.data?.data}
        loading={list.loading}
        rowKey={(p) => p.id}
        onRow={(p) => navigate(`/prompts/${p.id}`)}
        empty={q.q || q.service_id ? "No prompts match." : "No prompts yet. Create one to get started."}
        columns={[
          { header: "Name", render: (p) => <Link href={`/prompts/${p.id}`}><b>{p.name}</b></Link> },
          { header: "Slug", render: (p) => <code>{p.slug}</code> },
          { header: "Service", class: "hide-narrow", render: (p) => p.service_slug },
          { header: "Published", render: (p) => <PublishState p={p} /> },
          { header: "Latest", class: "num", render: (p) => (p.latest_version ? `v${p.latest_version}` : "—") },
          { header: "Updated", class: "hide-narrow", render: (p) => <span title={fmtTime(p.updated_at)}>{fmtAgo(p.updated_at)}</span> },
        ]}
      />
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
      <CreatePrompt
        open={creating}
        services={services.data?.data ?? []}
        defaultService={q.service_id}
        onClose={() => setCreating(false)}
        onCreated={(p) => { setCreating(false); navigate(`/prompts/${p.id}`); }}
      />
    </>
  );
}

function PublishState(props: { p: Prompt }) {
  const { p } = props;
  if (p.published_version) return <Badge tone="green">v{p.published_version} live</Badge>;
  if (p.latest_version) return <Badge tone="amber">draft only</Badge>;
  return <Badge>no version</Badge>;
}

function CreatePrompt(props: { open: boolean; services: Service[]; defaultService?: string; onClose: () => void; onCreated: (p: Prompt) => void }) {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [service, setService] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState(false);
  if (props.open !== shown) {
    setShown(props.open);
    if (props.open) {
      setName(""); setSlug(""); setSlugEdited(false); setDescription(""); setErrors({});
      setService(props.defaultService ?? (props.services.length === 1 ? String(props.services[0].id) : ""));
    }
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!name.trim()) errs.name = "A prompt needs a name.";
    if (!slugRE.test(slug)) errs.slug = "1 to 63 lower-case letters, digits and -, starting with a letter or digit.";
    if (!service) errs.service_id = "Choose the service whose subscribers may call the prompt.";
    if (Object.keys(errs).length) return setErrors(errs);
    setBusy(true);
    try {
      const p = await api.post<Prompt>("/prompts", { name: name.trim(), slug, service_id: Number(service), description: description.trim() });
      toast(`Prompt ${p.name} created`);
      props.onCreated(p);
    } catch (err) {
      setErrors(submitErrors(err, ["name", "slug", "service_id", "description"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="New prompt" open={props.open} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError errors={errors} />
        <Field label="Name" error={errors.name}>
          <input class="input" value={name} maxLength={200} onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            setName(v);
            if (!slugEdited) setSlug(slugify(v));
          }} />
        </Field>
        <Field label="Slug" error={errors.slug} hint={<>Callers use it in the URL: <code>/v1/prompts/{slug || "slug"}</code>. It cannot change later.</>}>
          <input class="input mono" value={slug} maxLength={63} onInput={(e) => { setSlug((e.target as HTMLInputElement).value); setSlugEdited(true); }} />
        </Field>
        <Field label="Service" error={errors.service_id} hint="Approved subscribers of this service may call the prompt.">
          <select class="input" value={service} onChange={(e) => setService((e.target as HTMLSelectElement).value)}>
            <option value="">Choose a service…</option>
            {props.services.map((s) => <option value={s.id}>{s.name} ({s.slug})</option>)}
          </select>
        </Field>
        <Field label="Description" error={errors.description}>
          <textarea class="input" rows={3} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} />
        </Field>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create prompt</Button>
        </div>
      </form>
    </Modal>
  );
}

const tabs = [
  { id: "editor", label: "Editor" },
  { id: "test", label: "Test run" },
  { id: "versions", label: "Versions" },
];

function PromptDetail(props: { id: number }) {
  const [q, setQ] = useQueryParams();
  const [, navigate] = useLocation();
  const prompt = useResource((signal) => api.get<Prompt>(`/prompts/${props.id}`, undefined, signal), [props.id]);
  const models = useResource((signal) => api.get<Page<Model>>("/models", { per_page: 200 }, signal), []);
  const p = prompt.data;
  const tab = tabs.some((t) => t.id === q.tab) ? q.tab : "editor";

  // The editor's draft lives here so the test tab can save it.
  const [draft, setDraft] = useState<Draft | null>(null);
  const [baseline, setBaseline] = useState("");
  const [baseVersion, setBaseVersion] = useState(0);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [draftErrors, setDraftErrors] = useState<DraftErrors>({});
  const [saving, setSaving] = useState(false);
  const [testVersion, setTestVersion] = useState(0);
  const [versionsTick, setVersionsTick] = useState(0);

  const loadDraft = async (n: number) => {
    try {
      const v = n ? await api.get<PromptVersion>(`/prompts/${props.id}/versions/${n}`) : null;
      const d = draftFrom(v as never);
      setDraft(d);
      setBaseline(JSON.stringify(d));
      setBaseVersion(n);
      setDraftErrors({});
      setLoadError(null);
    } catch (e) {
      setLoadError(e as Error);
    }
  };
  useEffect(() => {
    setDraft(null);
    setTestVersion(0);
  }, [props.id]);
  useEffect(() => {
    if (p && p.id === props.id && draft === null) void loadDraft(p.latest_version);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p?.id, props.id, draft === null]);

  const dirty = !!draft && JSON.stringify(draft) !== baseline;

  /** save posts the draft as a new version; returns its number. */
  const save = async (): Promise<number | null> => {
    if (!draft) return null;
    const { errors, body } = checkDraft(draft);
    if (!body) {
      setDraftErrors(errors);
      if (tab !== "editor") setQ({ tab: "editor" });
      return null;
    }
    setSaving(true);
    try {
      const v = await api.post<PromptVersion>(`/prompts/${props.id}/versions`, body);
      toast(`Saved version ${v.version}`);
      const d = draftFrom(v as never);
      setDraft(d);
      setBaseline(JSON.stringify(d));
      setBaseVersion(v.version);
      setDraftErrors({});
      setTestVersion(v.version);
      setVersionsTick((t) => t + 1);
      prompt.reload();
      return v.version;
    } catch (e) {
      const k = e instanceof ApiError ? errorKey(e.param) : "";
      setDraftErrors({ [k]: (e as Error).message });
      if (tab !== "editor") setQ({ tab: "editor" });
      return null;
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!p) return;
    const deleted = await confirmDelete({
      title: "Delete prompt",
      message: <>Delete <b>{p.name}</b> and all its versions? Callers of <code>/v1/prompts/{p.slug}</code> will get 404.</>,
      confirmLabel: "Delete prompt",
      path: `/prompts/${p.id}`,
      done: `Prompt ${p.name} deleted`,
    });
    if (deleted) navigate("/prompts");
  };

  if (prompt.error && !p) {
    return (
      <>
        <p><Link href="/prompts">← Prompts</Link></p>
        <ErrorBanner error={prompt.error} title="Cannot load the prompt" />
      </>
    );
  }
  if (!p) return <div class="table-loading"><Spinner label="Loading prompt" /></div>;

  return (
    <>
      <p class="crumb"><Link href="/prompts">← Prompts</Link></p>
      <PageHeader
        title={p.name}
        subtitle={p.description || undefined}
        actions={<Button variant="ghost" onClick={remove}>Delete prompt</Button>}
      />
      <dl class="kv prompt-meta">
        <dt>Slug</dt><dd><code>{p.slug}</code></dd>
        <dt>Service</dt><dd><Link href={`/services/${p.service_id}`}>{p.service_slug}</Link></dd>
        <dt>Endpoint</dt>
        <dd class="prompt-url"><code>POST {dataPlaneURL(p.slug)}</code> <CopyButton text={dataPlaneURL(p.slug)} label="Copy URL" /></dd>
        <dt>State</dt>
        <dd>
          {p.published_version
            ? <><Badge tone="green">Published v{p.published_version}</Badge> <span class="muted small">by {p.published_by_email || "—"} {fmtAgo(p.published_at)}</span></>
            : <Badge tone={p.latest_version ? "amber" : "gray"}>{p.latest_version ? "Not published (draft only)" : "No version yet"}</Badge>}
          {" "}<span class="muted small">latest v{p.latest_version || 0}</span>
        </dd>
      </dl>
      <Tabs tabs={tabs} active={tab} onChange={(t) => setQ({ tab: t === "editor" ? undefined : t })} />
      {tab === "editor" && (
        <>
          <ErrorBanner error={loadError} title="Cannot load the latest version" />
          {draft
            ? <Editor
                draft={draft} onChange={setDraft} errors={draftErrors} models={models.data?.data ?? []} dirty={dirty}
                baseVersion={baseVersion} saving={saving} onSave={save} onReset={() => loadDraft(baseVersion)}
              />
            : !loadError && <div class="table-loading"><Spinner label="Loading the editor" /></div>}
        </>
      )}
      {tab === "test" && (
        <TestRun
          prompt={p} version={testVersion || p.latest_version} onVersion={setTestVersion} dirty={dirty} saving={saving}
          onSave={save} versionsTick={versionsTick}
        />
      )}
      {tab === "versions" && (
        <Versions
          prompt={p} page={Number(q.vpage ?? 1) || 1} onPage={(n) => setQ({ vpage: n, tab: "versions" })} tick={versionsTick}
          onChanged={() => { prompt.reload(); setVersionsTick((t) => t + 1); }}
          onEdit={(n) => {
            if (dirty) {
              void confirm({ title: "Discard changes", message: "The editor has unsaved changes. Load this version and discard them?", confirmLabel: "Discard and load" })
                .then((ok) => { if (ok) { void loadDraft(n); setQ({ tab: undefined }); } });
            } else {
              void loadDraft(n);
              setQ({ tab: undefined });
            }
          }}
          onTest={(n) => { setTestVersion(n); setQ({ tab: "test" }); }}
        />
      )}
    </>
  );
}

/** Highlighted shows text with each {{placeholder}} in a <mark>. */
export function Highlighted(props: { text: string; declared?: Set<string> }) {
  return (
    <>
      {segments(props.text).map((s) => (s.name
        ? <mark class={props.declared && !props.declared.has(s.name) ? "ph ph-undeclared" : "ph"}>{s.text}</mark>
        : s.text))}
      {/* a trailing newline needs a character after it to take a line */}
      {"\u200b"}
    </>
  );
}

function Editor(props: {
  draft: Draft; onChange: (d: Draft) => void; errors: DraftErrors; models: Model[]; dirty: boolean; baseVersion: number;
  saving: boolean; onSave: () => Promise<number | null>; onReset: () => void;
}) {
  const { draft: d, errors } = props;
  const set = (patch: Partial<Draft>) => props.onChange({ ...d, ...patch });
  const setMsg = (i: number, patch: Partial<{ role: Role; content: string }>) =>
    set({ messages: d.messages.map((m, j) => (j === i ? { ...m, ...patch } : m)) });
  const move = (i: number, by: number) => {
    const ms = [...d.messages];
    const [m] = ms.splice(i, 1);
    ms.splice(i + by, 0, m);
    set({ messages: ms });
  };
  const setVar = (i: number, patch: Partial<VarRow>) => set({ vars: d.vars.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const declared = new Set(d.vars.map((r) => r.name.trim()).filter(Boolean));
  const used = placeholders(d.messages.map((m) => m.content).join("\n"));
  const undeclared = used.filter((n) => !declared.has(n));
  const knownModel = !d.model || props.models.some((m) => m.name === d.model);
  const overrides = d.overrides ?? defaultOverrides;
  const overrideChoices = [...defaultOverrides, ...overrides.filter((o) => !defaultOverrides.includes(o))];

  return (
    <form class="prompt-editor" noValidate onSubmit={(e) => { e.preventDefault(); void props.onSave(); }}>
      <div class="editor-status">
        <span class="muted">{props.baseVersion ? <>Draft based on v{props.baseVersion}</> : "New draft"}</span>
        {props.dirty && <Badge tone="amber">Unsaved changes</Badge>}
      </div>
      <FormError errors={errors} />
      <div class="grid-2">
        <Field label="Model" error={errors.model} hint={!knownModel ? `${d.model} is not among the models.` : "The public model the prompt calls."}>
          <select class="input" value={d.model} onChange={(e) => set({ model: (e.target as HTMLSelectElement).value })}>
            <option value="">Choose a model…</option>
            {!knownModel && <option value={d.model}>{d.model} (missing)</option>}
            {props.models.map((m) => <option value={m.name}>{m.name}</option>)}
          </select>
        </Field>
      </div>

      <fieldset class="prompt-section">
        <legend>Messages</legend>
        <p class="muted small prompt-help">Use <code>{"{{name}}"}</code> for a variable; each one must be declared under Variables.</p>
        {errors.messages && <p class="field-error" role="alert">{errors.messages}</p>}
        {d.messages.map((m, i) => {
          const err = errors[`messages[${i}].content`];
          return (
            <div class={`message-row ${err ? "has-error" : ""}`} key={i}>
              <div class="message-head">
                <label class="sr-only" for={`msg-role-${i}`}>Message {i + 1} role</label>
                <select id={`msg-role-${i}`} class="input message-role" value={m.role} onChange={(e) => setMsg(i, { role: (e.target as HTMLSelectElement).value as Role })}>
                  {roles.map((r) => <option value={r}>{r}</option>)}
                </select>
                <span class="row-actions">
                  <button type="button" class="icon-btn" aria-label={`Move message ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
                  <button type="button" class="icon-btn" aria-label={`Move message ${i + 1} down`} disabled={i === d.messages.length - 1} onClick={() => move(i, 1)}>↓</button>
                  <button type="button" class="icon-btn" aria-label={`Remove message ${i + 1}`} disabled={d.messages.length === 1} onClick={() => set({ messages: d.messages.filter((_, j) => j !== i) })}>×</button>
                </span>
              </div>
              <label class="sr-only" for={`msg-content-${i}`}>Message {i + 1} content</label>
              <div class="ph-editor">
                <div class="ph-mirror input" aria-hidden="true"><Highlighted text={m.content} declared={declared} /></div>
                <textarea
                  id={`msg-content-${i}`}
                  class="input ph-input"
                  spellcheck={false}
                  value={m.content}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={err ? `msg-err-${i}` : undefined}
                  placeholder={m.role === "user" ? "e.g. Summarize: {{text}}" : "e.g. You are a concise assistant."}
                  onInput={(e) => setMsg(i, { content: (e.target as HTMLTextAreaElement).value })}
                />
              </div>
              {err && <small id={`msg-err-${i}`} class="field-error" role="alert">{err}</small>}
            </div>
          );
        })}
        <Button onClick={() => set({ messages: [...d.messages, { role: "user", content: "" }] })}>Add message</Button>
      </fieldset>

      <fieldset class="prompt-section">
        <legend>Variables</legend>
        <p class="muted small prompt-help">The JSON Schema of the variables callers send. Placeholders used: {used.length ? used.map((n) => <code class={declared.has(n) ? "" : "undeclared"}>{`{{${n}}}`} </code>) : "none"}</p>
        {errors.variables_schema && <p class="field-error" role="alert">{errors.variables_schema}</p>}
        {d.vars.length > 0 && (
          <div class="var-rows">
            <div class="var-row var-head" aria-hidden="true"><span>Name</span><span>Type</span><span>Required</span><span>Description</span><span /></div>
            {d.vars.map((r, i) => (
              <div class="var-row" key={i}>
                <div>
                  <input class="input mono" aria-label={`Variable ${i + 1} name`} value={r.name} onInput={(e) => setVar(i, { name: (e.target as HTMLInputElement).value })} aria-invalid={errors[`vars[${i}].name`] ? true : undefined} />
                  {errors[`vars[${i}].name`] && <small class="field-error" role="alert">{errors[`vars[${i}].name`]}</small>}
                </div>
                <select class="input" aria-label={`Variable ${i + 1} type`} value={r.type} onChange={(e) => setVar(i, { type: (e.target as HTMLSelectElement).value as VarType })}>
                  {varTypes.map((t) => <option value={t}>{t}</option>)}
                </select>
                <label class="checkbox"><input type="checkbox" checked={r.required} onChange={(e) => setVar(i, { required: (e.target as HTMLInputElement).checked })} /><span>Required<span class="sr-only"> (variable {i + 1})</span></span></label>
                <input class="input" aria-label={`Variable ${i + 1} description`} placeholder="Description" value={r.description} onInput={(e) => setVar(i, { description: (e.target as HTMLInputElement).value })} />
                <button type="button" class="icon-btn" aria-label={`Remove variable ${i + 1}`} onClick={() => set({ vars: d.vars.filter((_, j) => j !== i) })}>×</button>
              </div>
            ))}
          </div>
        )}
        <div class="row-actions">
          <Button onClick={() => set({ vars: [...d.vars, { name: "", type: "string", required: true, description: "", extra: {} }] })}>Add variable</Button>
          {undeclared.length > 0 && (
            <Button onClick={() => set({ vars: [...d.vars, ...undeclared.map((name) => ({ name, type: "string" as VarType, required: true, description: "", extra: {} }))] })}>
              Declare {undeclared.map((n) => `{{${n}}}`).join(", ")}
            </Button>
          )}
        </div>
      </fieldset>

      <fieldset class="prompt-section">
        <legend>Parameters</legend>
        <div class="grid-3">
          <Field label="Temperature" error={errors["parameters.temperature"]} hint="0 to 2; empty for the model's default">
            <input class="input" inputMode="decimal" value={d.temperature} onInput={(e) => set({ temperature: (e.target as HTMLInputElement).value })} />
          </Field>
          <Field label="Max tokens" error={errors["parameters.max_tokens"]}>
            <input class="input" inputMode="numeric" value={d.maxTokens} onInput={(e) => set({ maxTokens: (e.target as HTMLInputElement).value })} />
          </Field>
          <Field label="Top p" error={errors["parameters.top_p"]} hint="0 to 1">
            <input class="input" inputMode="decimal" value={d.topP} onInput={(e) => set({ topP: (e.target as HTMLInputElement).value })} />
          </Field>
        </div>
        <Field label="Other parameters (JSON)" error={errors.parameters} hint='e.g. {"response_format":{"type":"json_object"}}'>
          <textarea class="input mono" rows={3} value={d.otherParams} onInput={(e) => set({ otherParams: (e.target as HTMLTextAreaElement).value })} />
        </Field>
        <fieldset class="overrides">
          <legend>Callers may override</legend>
          {d.overrides === null && <span class="muted small overrides-default">(the default list)</span>}
          {errors.allowed_overrides && <p class="field-error" role="alert">{errors.allowed_overrides}</p>}
          {overrideChoices.map((o) => (
            <label class="checkbox">
              <input type="checkbox" checked={overrides.includes(o)} onChange={(e) => set({
                overrides: (e.target as HTMLInputElement).checked ? [...overrides, o] : overrides.filter((x) => x !== o),
              })} />
              <code>{o}</code>
            </label>
          ))}
        </fieldset>
      </fieldset>

      <Field label="Note" error={errors.note} hint="What changed in this version.">
        <input class="input" value={d.note} maxLength={2000} onInput={(e) => set({ note: (e.target as HTMLInputElement).value })} />
      </Field>
      <div class="form-actions sticky-actions">
        {props.dirty && <Button onClick={props.onReset}>Discard changes</Button>}
        <Button type="submit" variant="primary" busy={props.saving}>Save version</Button>
      </div>
    </form>
  );
}

function useVersions(promptId: number, page: number, perPage: number, tick: number) {
  return useResource(
    (signal) => api.get<Page<PromptVersion>>(`/prompts/${promptId}/versions`, { page, per_page: perPage }, signal),
    [promptId, page, perPage, tick],
  );
}

interface RunState {
  running: boolean;
  text: string;
  summary?: PromptTestRun;
  rendered?: { role: string; content: string }[];
  error?: Error;
}

function TestRun(props: {
  prompt: Prompt; version: number; onVersion: (n: number) => void; dirty: boolean; saving: boolean;
  onSave: () => Promise<number | null>; versionsTick: number;
}) {
  const { prompt: p } = props;
  const versions = useVersions(p.id, 1, 100, props.versionsTick);
  const n = props.version;
  const version = useResource(
    (signal) => (n ? api.get<PromptVersion>(`/prompts/${p.id}/versions/${n}`, undefined, signal) : Promise.resolve(null)),
    [p.id, n],
  );
  const rows = schemaRows(version.data?.variables_schema);
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Errors>({});
  const [run, setRun] = useState<RunState>({ running: false, text: "" });
  const ctl = useRef<AbortController | null>(null);
  useEffect(() => () => ctl.current?.abort(), []);

  const start = async (e: Event) => {
    e.preventDefault();
    const { vars, errors: errs } = testVariables(rows, values);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setRun({ running: true, text: "" });
    try {
      const res = await raw("POST", `/prompts/${p.id}/test`, { body: { version: n, variables: vars, stream: true }, signal: c.signal });
      let text = "";
      await readEvents(res, (ev) => {
        const data = JSON.parse(ev.data);
        if (ev.event === "start") setRun((r) => ({ ...r, rendered: data.messages }));
        else if (ev.event === "delta") {
          text += data.content ?? "";
          setRun((r) => ({ ...r, text }));
        } else if (ev.event === "summary") setRun((r) => ({ ...r, running: false, summary: data as PromptTestRun }));
      });
      setRun((r) => ({ ...r, running: false }));
    } catch (err) {
      if ((err as Error).name === "AbortError") {
        setRun((r) => ({ ...r, running: false, error: new Error("Stopped: the upstream call was cancelled.") }));
        return;
      }
      if (err instanceof ApiError && err.param?.startsWith("variables")) {
        const name = err.param.split(".")[1];
        setErrors(name && rows.some((r) => r.name === name) ? { [name]: err.message } : { "": err.message });
        setRun({ running: false, text: "" });
        return;
      }
      setRun((r) => ({ ...r, running: false, error: err as Error }));
    } finally {
      if (ctl.current === c) ctl.current = null;
    }
  };
  const stop = () => ctl.current?.abort();

  if (!p.latest_version && !props.dirty) {
    return <div class="empty">Save a first version in the Editor tab, then test it here.</div>;
  }
  const vs = versions.data?.data ?? [];
  const s = run.summary;
  const failed = s && (s.status !== 200 || (s.error && Object.keys(s.error).length > 0));
  return (
    <div class="test-run">
      {props.dirty && (
        <div class="banner banner-info" role="status">
          The editor has unsaved changes. Test runs use saved versions (drafts included, they are not live until published):
          {" "}<Button variant="primary" busy={props.saving} onClick={() => void props.onSave()}>Save version and test it</Button>
        </div>
      )}
      <form onSubmit={start} noValidate class="card test-form">
        <FormError errors={errors} />
        <Field label="Version">
          <select class="input" value={n} onChange={(e) => { props.onVersion(Number((e.target as HTMLSelectElement).value)); setErrors({}); }}>
            {!vs.some((v) => v.version === n) && n > 0 && <option value={n}>v{n}</option>}
            {vs.map((v) => (
              <option value={v.version}>
                v{v.version}{v.version === p.published_version ? " (published)" : v.version > p.published_version ? " (draft)" : ""}{v.note ? ` — ${v.note}` : ""}
              </option>
            ))}
          </select>
        </Field>
        {version.error && <ErrorBanner error={version.error} />}
        {version.data && <p class="muted small">Model <b>{version.data.model}</b>. {rows.length ? "Variables:" : "This version takes no variables."}</p>}
        {rows.map((r) => (
          r.type === "boolean"
            ? (
              <div class="field">
                <label class="checkbox">
                  <input type="checkbox" checked={values[r.name] === "true"} onChange={(e) => setValues({ ...values, [r.name]: String((e.target as HTMLInputElement).checked) })} />
                  <span>{r.name}</span>
                </label>
                {r.description && <small class="hint">{r.description}</small>}
              </div>
            )
            : (
              <Field label={r.name} error={errors[r.name]} hint={[r.type, r.required ? "required" : "optional", r.description].filter(Boolean).join(" · ")}>
                {r.type === "string"
                  ? <textarea class="input" rows={2} value={values[r.name] ?? ""} onInput={(e) => setValues({ ...values, [r.name]: (e.target as HTMLTextAreaElement).value })} />
                  : <input class="input" inputMode={r.type === "integer" ? "numeric" : "decimal"} value={values[r.name] ?? ""} onInput={(e) => setValues({ ...values, [r.name]: (e.target as HTMLInputElement).value })} />}
              </Field>
            )
        ))}
        <div class="form-actions">
          {run.running && <Button variant="danger" onClick={stop}>Stop</Button>}
          <Button type="submit" variant="primary" busy={run.running} disabled={!n}>Run test</Button>
        </div>
      </form>

      {(run.running || run.text || s || run.error) && (
        <section class="card test-result" aria-label="Test result">
          <h2>Output {run.running && <Spinner small label="Streaming" />}</h2>
          <pre class="test-output" aria-live="polite" aria-label="Output">{run.text || (run.running ? "" : s?.output ?? "")}{run.running && <span class="cursor" aria-hidden="true">▍</span>}</pre>
          <ErrorBanner error={run.error} />
          {s && (
            <div class="test-summary" role="status" aria-label="Run summary">
              <div class="summary-line">
                <Badge tone={failed ? "red" : "green"}>{failed ? "Failed" : "Succeeded"}</Badge>
                <span>status <b>{s.status}</b></span>
                <span>v{s.version} · {s.model}{s.provider ? <> → {s.provider}/{s.upstream_model}</> : null}</span>
                <span>{fmtMs(s.latency_ms)}</span>
                {s.usage && <span>{fmtInt(s.usage.prompt_tokens)} in · {fmtInt(s.usage.completion_tokens)} out · {fmtInt(s.usage.total_tokens)} tokens</span>}
                {s.finish_reason && <span class="muted">finish: {s.finish_reason}</span>}
              </div>
              {failed && s.error && <div class="banner banner-error" role="alert">{String((s.error as { message?: string }).message ?? JSON.stringify(s.error))}</div>}
              {s.attempts.length > 0 && (
                <ol class="attempts" aria-label="Attempts">
                  {s.attempts.map((a) => <li><code>{a.target}</code> <Badge tone={a.status === 200 ? "green" : "red"}>{a.status || "—"}</Badge> {a.error && <span class="muted">{a.error}</span>}</li>)}
                </ol>
              )}
            </div>
          )}
          {run.rendered && (
            <details>
              <summary>Rendered messages</summary>
              {run.rendered.map((m) => <div class="rendered"><b>{m.role}</b><pre>{m.content}</pre></div>)}
            </details>
          )}
        </section>
      )}
    </div>
  );
}

function Versions(props: {
  prompt: Prompt; page: number; onPage: (n: number) => void; tick: number; onChanged: () => void;
  onEdit: (n: number) => void; onTest: (n: number) => void;
}) {
  const { prompt: p } = props;
  const list = useVersions(p.id, props.page, VERSIONS_PER_PAGE, props.tick);
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<PromptDiff | null>(null);
  const [diffBusy, setDiffBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState<number | "unpublish" | null>(null);

  const toggle = (n: number, on: boolean) => {
    setDiff(null);
    setPicked((ps) => (on ? [...ps.filter((x) => x !== n), n].slice(-2) : ps.filter((x) => x !== n)));
  };
  const compare = async () => {
    const [a, b] = [...picked].sort((x, y) => x - y);
    setDiffBusy(true);
    try {
      setDiff(await api.get<PromptDiff>(`/prompts/${p.id}/versions/${a}/diff/${b}`));
      setError(null);
    } catch (e) {
      setError(e as Error);
    } finally {
      setDiffBusy(false);
    }
  };
  const publish = async (n: number) => {
    const rollback = p.published_version > n;
    const ok = await confirm(rollback
      ? {
          title: `Roll back to version ${n}`,
          message: <>Version {p.published_version} is live now. Publishing version {n} is a <b>rollback</b> to an older version: callers of <code>/v1/prompts/{p.slug}</code> get version {n} from their next call.</>,
          confirmLabel: `Roll back to v${n}`,
        }
      : {
          title: `Publish version ${n}`,
          message: <>Make version {n} live? Callers of <code>/v1/prompts/{p.slug}</code> get it from their next call{p.published_version ? <> instead of version {p.published_version}</> : null}.</>,
          confirmLabel: `Publish v${n}`,
          danger: false,
        });
    if (!ok) return;
    setBusy(n);
    try {
      await api.post(`/prompts/${p.id}/publish`, { version: n });
      toast(rollback ? `Rolled back to version ${n}` : `Version ${n} published`);
      setError(null);
      props.onChanged();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(null);
    }
  };
  const unpublish = async () => {
    if (!(await confirm({
      title: "Unpublish prompt",
      message: <>Take <b>{p.name}</b> off the data plane? Callers of <code>/v1/prompts/{p.slug}</code> get 404 until a version is published again.</>,
      confirmLabel: "Unpublish",
    }))) return;
    setBusy("unpublish");
    try {
      await api.post(`/prompts/${p.id}/unpublish`);
      toast("Prompt unpublished");
      setError(null);
      props.onChanged();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(null);
    }
  };

  const [a, b] = [...picked].sort((x, y) => x - y);
  return (
    <>
      <div class="toolbar">
        <Button variant="primary" disabled={picked.length !== 2} busy={diffBusy} onClick={compare}>
          {picked.length === 2 ? `Compare v${a} → v${b}` : "Compare (select two versions)"}
        </Button>
        {p.published_version > 0 && <Button variant="danger" busy={busy === "unpublish"} onClick={unpublish}>Unpublish</Button>}
      </div>
      <ErrorBanner error={error ?? list.error} />
      <Table
        label="Versions"
        rows={list.data?.data}
        loading={list.loading}
        rowKey={(v) => v.version}
        empty="No versions yet: save one in the Editor tab."
        columns={[
          { header: "Compare", render: (v) => (
            <input type="checkbox" aria-label={`Select version ${v.version} to compare`} checked={picked.includes(v.version)} onChange={(e) => toggle(v.version, (e.target as HTMLInputElement).checked)} />
          ) },
          { header: "Version", render: (v) => <><b>v{v.version}</b> {v.version === p.published_version && <Badge tone="green">Published</Badge>}</> },
          { header: "Model", class: "hide-narrow", render: (v) => v.model },
          { header: "Note", render: (v) => v.note || <span class="muted">—</span> },
          { header: "Saved by", class: "hide-narrow", render: (v) => v.created_by_email || "—" },
          { header: "When", render: (v) => <span title={fmtTime(v.created_at)}>{fmtAgo(v.created_at)}</span> },
          { header: "", class: "right", render: (v) => (
            <span class="row-actions">
              <Button variant="ghost" aria-label={`Edit from version ${v.version}`} onClick={() => props.onEdit(v.version)}>Edit</Button>
              <Button variant="ghost" aria-label={`Test version ${v.version}`} onClick={() => props.onTest(v.version)}>Test</Button>
              {v.version !== p.published_version && (
                <Button variant="ghost" aria-label={`Publish version ${v.version}`} busy={busy === v.version} onClick={() => publish(v.version)}>
                  {p.published_version > v.version ? "Roll back" : "Publish"}
                </Button>
              )}
            </span>
          ) },
        ]}
      />
      {list.data && <Pager page={props.page} perPage={VERSIONS_PER_PAGE} total={list.data.total} onPage={props.onPage} />}
      {diff && <DiffView diff={diff} />}
    </>
  );
}

export function DiffView(props: { diff: PromptDiff }) {
  const { diff } = props;
  const lines = diffLines(diff.messages);
  const changes = (diff.changes ?? []) as { path: string; from?: unknown; to?: unknown }[];
  return (
    <section class="card prompt-diff" aria-label={`Changes from v${diff.from} to v${diff.to}`}>
      <h2>Changes from v{diff.from} to v{diff.to}</h2>
      {changes.length === 0 && lines.length === 0 && <p class="muted">The two versions are the same.</p>}
      {changes.length > 0 && (
        <table class="table diff-changes">
          <thead><tr><th scope="col">Path</th><th scope="col">v{diff.from}</th><th scope="col" aria-hidden="true" /><th scope="col">v{diff.to}</th></tr></thead>
          <tbody>
            {changes.map((c) => (
              <tr>
                <td><code>{c.path}</code></td>
                <td class="diff-from"><code>{showValue(c.from, "from" in c)}</code></td>
                <td aria-hidden="true">→</td>
                <td class="diff-to"><code>{showValue(c.to, "to" in c)}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {lines.length > 0 && (
        <>
          <h3>Messages</h3>
          <pre class="diff-text" aria-label="Messages diff">{lines.map((l) => <span class={`diff-line diff-${l.kind}`}>{l.text}{"\n"}</span>)}</pre>
        </>
      )}
    </section>
  );
}
