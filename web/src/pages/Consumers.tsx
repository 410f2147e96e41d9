// Consumers & keys: the applications that call the gateway. The list
// (search, team filter and page in the URL), create/edit in a dialog, and
// a detail view at /consumers/:id with the consumer's keys — a new key is
// shown once, with a copy button — and its subscriptions.
import { useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api } from "../api/client";
import type { Consumer, CreatedKey, Key, Page } from "../api/types";
import { confirmDelete, Modal, toast } from "../components/dialog";
import { Badge, Button, CopyButton, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, Spinner, submitErrors, Table, type Errors } from "../components/ui";
import { keyExpiry, keyState, useTeams, validateConsumer, validateKey, type ConsumerForm, type TeamChoice } from "../lib/access";
import { fmtAgo, fmtTime } from "../lib/format";
import { useQueryParams, useResource } from "../lib/hooks";
import { session } from "../lib/session";
import { TeamFilter } from "./Services";
import { SelectField, SubscriptionList } from "./Subscriptions";
import "./access.css";

const PER_PAGE = 20;
const KEYS_PER_PAGE = 10;

export default function Consumers() {
  const params = useParams<{ id?: string }>();
  return params.id ? <ConsumerDetail id={Number(params.id)} /> : <ConsumerList />;
}

function deleteConsumer(c: Consumer): Promise<boolean> {
  return confirmDelete({
    title: "Delete consumer",
    message: <>Delete <b>{c.name}</b>? Its keys and subscriptions are deleted with it: every call with its keys is refused at once. This cannot be undone.</>,
    confirmLabel: "Delete consumer",
    path: `/consumers/${c.id}`,
    done: `Consumer ${c.name} deleted`,
  });
}

function ConsumerList() {
  const [q, setQ] = useQueryParams();
  const [, navigate] = useLocation();
  const page = Number(q.page ?? 1) || 1;
  const teams = useTeams();
  const list = useResource(
    (signal) => api.get<Page<Consumer>>("/consumers", { q: q.q, team_id: q.team_id, page, per_page: PER_PAGE }, signal),
    [q.q, q.team_id, page],
  );
  const [editing, setEditing] = useState<Consumer | "new" | null>(null);
  const canCreate = session.isAdmin || teams.teams.length > 0;
  return (
    <>
      <PageHeader
        title="Consumers & keys"
        subtitle="Applications that call the gateway with their keys, once subscribed to a service."
        actions={canCreate && <Button variant="primary" onClick={() => setEditing("new")}>New consumer</Button>}
      />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search consumers" label="Search consumers" />
        {session.isAdmin && <TeamFilter teams={teams} value={q.team_id ?? ""} onChange={(v) => setQ({ team_id: v })} />}
      </div>
      <ErrorBanner error={list.error} />
      <div class="access-table"><Table
        label="Consumers"
        rows={list.data?.data}
        loading={list.loading}
        rowKey={(c) => c.id}
        onRow={(c) => navigate(`/consumers/${c.id}`)}
        empty={q.q || q.team_id ? "No consumers match." : "No consumers yet. Create one, then give it a key."}
        columns={[
          { header: "Consumer", render: (c) => <><Link href={`/consumers/${c.id}`}><b>{c.name}</b></Link>{c.description && <div class="muted small clamp">{c.description}</div>}</> },
          { header: "Team", render: (c) => teams.name(c.team_id) },
          { header: "Created", render: (c) => fmtTime(c.created_at) },
          { header: "", class: "right", render: (c) => (
            <span class="row-actions nowrap">
              <Button variant="ghost" onClick={() => setEditing(c)}>Edit</Button>
              <Button variant="ghost" onClick={async () => (await deleteConsumer(c)) && list.reload()}>Delete</Button>
            </span>
          ) },
        ]}
      /></div>
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
      <ConsumerDialog consumer={editing} teams={teams} onClose={() => setEditing(null)} onSaved={(c, created) => { setEditing(null); if (created) navigate(`/consumers/${c.id}`); else list.reload(); }} />
    </>
  );
}

function ConsumerDialog(props: { consumer: Consumer | "new" | null; teams: TeamChoice; onClose: () => void; onSaved: (c: Consumer, created: boolean) => void }) {
  const existing = props.consumer && props.consumer !== "new" ? props.consumer : null;
  const [f, setF] = useState<ConsumerForm>({ name: "", description: "", team_id: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.consumer !== shownFor) {
    setShownFor(props.consumer);
    const only = props.teams.teams.length === 1 ? String(props.teams.teams[0].id) : "";
    setF({ name: existing?.name ?? "", description: existing?.description ?? "", team_id: existing ? String(existing.team_id) : only });
    setErrors({});
  }
  const set = (patch: Partial<ConsumerForm>) => setF((o) => ({ ...o, ...patch }));
  const val = (e: Event) => (e.target as HTMLInputElement).value;
  const submit = async (e: Event) => {
    e.preventDefault();
    const bad = validateConsumer(f);
    setErrors(bad);
    if (Object.keys(bad).length) return;
    setBusy(true);
    try {
      const body = { name: f.name.trim(), description: f.description, team_id: Number(f.team_id) };
      const saved = existing ? await api.patch<Consumer>(`/consumers/${existing.id}`, body) : await api.post<Consumer>("/consumers", body);
      toast(existing ? `Consumer ${saved.name} saved` : `Consumer ${saved.name} created`);
      props.onSaved(saved, !existing);
    } catch (err) {
      setErrors(submitErrors(err, ["name", "description", "team_id"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={existing ? `Edit ${existing.name}` : "New consumer"} open={!!props.consumer} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError errors={errors} />
        <Field label="Name" error={errors.name}>
          <input class="input" name="name" value={f.name} maxLength={200} autoFocus onInput={(e) => set({ name: val(e) })} />
        </Field>
        <Field label="Description" error={errors.description}>
          <textarea class="input prose" name="description" rows={2} value={f.description} onInput={(e) => set({ description: val(e) })} />
        </Field>
        <SelectField label="Team" name="team_id" value={f.team_id} onChange={(v) => set({ team_id: v })} error={errors.team_id} hint={session.isAdmin ? undefined : "Only your teams are listed."}>
          <option value="">Pick a team…</option>
          {props.teams.teams.map((t) => <option value={t.id}>{t.name}</option>)}
        </SelectField>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create consumer"}</Button>
        </div>
      </form>
    </Modal>
  );
}

function ConsumerDetail(props: { id: number }) {
  const [, navigate] = useLocation();
  const [q, setQ] = useQueryParams();
  const keyPage = Number(q.page ?? 1) || 1;
  const con = useResource((signal) => api.get<Consumer>(`/consumers/${props.id}`, undefined, signal), [props.id]);
  const keys = useResource(
    (signal) => api.get<Page<Key>>(`/consumers/${props.id}/keys`, { page: keyPage, per_page: KEYS_PER_PAGE }, signal),
    [props.id, keyPage],
  );
  const teams = useTeams();
  const [editing, setEditing] = useState<Consumer | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const c = con.data;

  const revoke = async (k: Key) => {
    setRevoking(k.id);
    const revoked = await confirmDelete({
      title: "Revoke key",
      message: <>Revoke key <b>{k.name}</b> (<code>{k.prefix}</code>)? The gateway refuses it at once; this cannot be undone.</>,
      confirmLabel: "Revoke key",
      path: `/consumers/${props.id}/keys/${encodeURIComponent(k.id)}`,
      done: `Key ${k.name} revoked`,
    });
    setRevoking(null);
    if (revoked) keys.reload();
  };

  if (!c) {
    return (
      <>
        <p class="crumbs"><Link href="/consumers">← Consumers</Link></p>
        <ErrorBanner error={con.error} title="Cannot load the consumer" />
        {con.loading && <Spinner />}
      </>
    );
  }
  return (
    <>
      <p class="crumbs"><Link href="/consumers">← Consumers</Link></p>
      <PageHeader
        title={c.name}
        subtitle={<>{teams.name(c.team_id)}{c.description && <> · {c.description}</>}</>}
        actions={
          <>
            <Button onClick={() => setEditing(c)}>Edit</Button>
            <Button variant="danger" onClick={async () => (await deleteConsumer(c)) && navigate("/consumers")}>Delete</Button>
          </>
        }
      />
      <section class="subsection" aria-labelledby="con-keys">
        <div class="section-head">
          <h2 id="con-keys">Keys</h2>
          <Button variant="primary" onClick={() => setCreating(true)}>Create key</Button>
        </div>
        <ErrorBanner error={keys.error} />
        <div class="access-table"><Table
          label="Keys"
          rows={keys.data?.data}
          loading={keys.loading}
          rowKey={(k) => k.id}
          empty="No keys yet: create one for the consumer to call the gateway."
          columns={[
            { header: "Name", render: (k) => <b>{k.name}</b> },
            { header: "Prefix", render: (k) => <code>{k.prefix}</code> },
            { header: "Created", render: (k) => <span title={fmtTime(k.created_at)}>{fmtAgo(k.created_at)}</span> },
            { header: "Expires", render: (k) => (k.expires_at ? fmtTime(k.expires_at) : <span class="muted">never</span>) },
            { header: "Last used", render: (k) => <span title={k.last_used_at ? fmtTime(k.last_used_at) : undefined}>{fmtAgo(k.last_used_at)}</span> },
            { header: "Status", render: (k) => <KeyBadge k={k} /> },
            { header: "", class: "right", render: (k) => (keyState(k) === "revoked" ? null : (
              <Button variant="ghost" busy={revoking === k.id} onClick={() => revoke(k)}>Revoke</Button>
            )) },
          ]}
        /></div>
        {keys.data && <Pager page={keyPage} perPage={KEYS_PER_PAGE} total={keys.data.total} onPage={(p) => setQ({ page: p })} />}
      </section>
      <section class="subsection" aria-labelledby="con-subs">
        <h2 id="con-subs">Subscriptions</h2>
        <p class="muted small">The consumer asks for a service with one of its keys: <code>POST /v1/subscriptions {`{"service":"SLUG"}`}</code>.</p>
        <SubscriptionList consumer_id={c.id} hide="consumer" />
      </section>
      <ConsumerDialog consumer={editing} teams={teams} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); con.reload(); }} />
      <CreateKeyDialog consumerId={c.id} open={creating} onClose={() => setCreating(false)} onCreated={(k) => { setCreating(false); setCreated(k); keys.reload(); }} />
      <NewKeyDialog created={created} onClose={() => setCreated(null)} />
    </>
  );
}

function KeyBadge(props: { k: Key }) {
  const st = keyState(props.k);
  if (st === "revoked") return <Badge tone="gray" title={`Revoked ${fmtTime(props.k.revoked_at)}`}>revoked</Badge>;
  if (st === "expired") return <Badge tone="red">expired</Badge>;
  return <Badge tone="green">active</Badge>;
}

function CreateKeyDialog(props: { consumerId: number; open: boolean; onClose: () => void; onCreated: (k: CreatedKey) => void }) {
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState(false);
  if (props.open !== shownFor) {
    setShownFor(props.open);
    setName("");
    setExpires("");
    setErrors({});
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const bad = validateKey({ name, expires });
    setErrors(bad);
    if (Object.keys(bad).length) return;
    setBusy(true);
    try {
      const k = await api.post<CreatedKey>(`/consumers/${props.consumerId}/keys`, { name: name.trim(), expires_at: keyExpiry(expires) });
      props.onCreated(k);
    } catch (err) {
      setErrors(submitErrors(err, ["name", "expires_at"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Create key" open={props.open} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError errors={errors} />
        <Field label="Key name" error={errors.name} hint="Where the key is used, e.g. production or ci.">
          <input class="input" name="name" value={name} maxLength={200} autoFocus onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Expires on (optional)" error={errors.expires_at} hint="The key stops working at the end of that day; leave empty for a key that does not expire.">
          <input class="input narrow" type="date" name="expires" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
        </Field>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Create key</Button>
        </div>
      </form>
    </Modal>
  );
}

/** NewKeyDialog shows a new key once; closing it forgets the key. */
function NewKeyDialog(props: { created: CreatedKey | null; onClose: () => void }) {
  const k = props.created;
  return (
    <Modal title="Key created" open={!!k} onClose={props.onClose}>
      {k && (
        <>
          <div class="banner key-warning" role="note">
            <strong>Copy this key now.</strong> It is shown only once and cannot be shown again: Sluice keeps only a hash of it. If it is lost, revoke it and create another.
          </div>
          <Field label="New key">
            <input class="input mono key-value" readOnly value={k.key} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          </Field>
          <p class="muted small">Key <b>{k.name}</b>{k.expires_at ? <>, expires {fmtTime(k.expires_at)}</> : ", does not expire"}. Send it as <code>Authorization: Bearer …</code>.</p>
          <div class="form-actions">
            <CopyButton text={k.key} label="Copy key" />
            <Button variant="primary" onClick={props.onClose}>Done</Button>
          </div>
        </>
      )}
    </Modal>
  );
}
