// Teams (admins): list with search and pages in the URL, create and rename
// in a dialog with field errors, members added and removed, delete after a
// confirmation. The pattern every list page of the console follows.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { Page, Team, TeamWithMembers, User } from "../api/types";
import { confirmDelete, Modal, toast } from "../components/dialog";
import { Button, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, submitErrors, Table, type Errors } from "../components/ui";
import { fmtTime } from "../lib/format";
import { useQueryParams, useResource } from "../lib/hooks";

const PER_PAGE = 20;

export default function Teams() {
  const [q, setQ] = useQueryParams();
  const page = Number(q.page ?? 1) || 1;
  const teams = useResource((signal) => api.get<Page<Team>>("/teams", { q: q.q, page, per_page: PER_PAGE }, signal), [q.q, page]);
  const [editing, setEditing] = useState<Team | "new" | null>(null);
  const [open, setOpen] = useState<number | null>(null);

  const remove = async (t: Team) => {
    const deleted = await confirmDelete({
      title: "Delete team",
      message: <>Delete <b>{t.name}</b>? Only a team that owns no services or consumers can be deleted.</>,
      confirmLabel: "Delete team",
      path: `/teams/${t.id}`,
      done: `Team ${t.name} deleted`,
    });
    if (deleted) teams.reload();
  };

  return (
    <>
      <PageHeader title="Teams" subtitle="Teams own services and consumers; members see only their teams." actions={<Button variant="primary" onClick={() => setEditing("new")}>New team</Button>} />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search teams" label="Search teams" />
      </div>
      <ErrorBanner error={teams.error} />
      <Table
        label="Teams"
        rows={teams.data?.data}
        loading={teams.loading}
        rowKey={(t) => t.id}
        onRow={(t) => setOpen(t.id)}
        empty="No teams match."
        columns={[
          { header: "Name", render: (t) => <b>{t.name}</b> },
          { header: "Created", render: (t) => fmtTime(t.created_at) },
          { header: "", class: "right", render: (t) => (
            <span class="row-actions">
              <Button variant="ghost" onClick={() => setEditing(t)}>Rename</Button>
              <Button variant="ghost" onClick={() => remove(t)}>Delete</Button>
            </span>
          ) },
        ]}
      />
      {teams.data && <Pager page={page} perPage={PER_PAGE} total={teams.data.total} onPage={(p) => setQ({ page: p })} />}
      <TeamForm team={editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); teams.reload(); }} />
      {open !== null && <Members id={open} onClose={() => setOpen(null)} />}
    </>
  );
}

function TeamForm(props: { team: Team | "new" | null; onClose: () => void; onSaved: () => void }) {
  const existing = props.team && props.team !== "new" ? props.team : null;
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.team !== shownFor) {
    setShownFor(props.team);
    setName(existing?.name ?? "");
    setErrors({});
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setErrors({ name: "A team needs a name." });
    setBusy(true);
    try {
      if (existing) await api.patch(`/teams/${existing.id}`, { name: name.trim() });
      else await api.post("/teams", { name: name.trim() });
      toast(existing ? "Team renamed" : `Team ${name.trim()} created`);
      props.onSaved();
    } catch (err) {
      setErrors(submitErrors(err, ["name"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={existing ? "Rename team" : "New team"} open={!!props.team} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError errors={errors} />
        <Field label="Name" error={errors.name}>
          <input class="input" name="name" value={name} maxLength={100} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create team"}</Button>
        </div>
      </form>
    </Modal>
  );
}

function Members(props: { id: number; onClose: () => void }) {
  const team = useResource((signal) => api.get<TeamWithMembers>(`/teams/${props.id}`, undefined, signal), [props.id]);
  const users = useResource((signal) => api.get<Page<User>>("/users", { per_page: 200 }, signal), []);
  const [pick, setPick] = useState("");
  const [error, setError] = useState<Error | null>(null);
  const members = team.data?.members ?? [];
  const candidates = (users.data?.data ?? []).filter((u) => !members.some((m) => m.id === u.id));
  const add = async () => {
    if (!pick) return;
    try {
      await api.post(`/teams/${props.id}/members`, { user_id: Number(pick) });
      setPick("");
      setError(null);
      team.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const removeMember = async (u: User) => {
    const removed = await confirmDelete({
      title: "Remove member",
      message: <>Remove {u.email} from {team.data?.name}?</>,
      confirmLabel: "Remove",
      path: `/teams/${props.id}/members/${u.id}`,
      onError: setError,
    });
    if (removed) team.reload();
  };
  return (
    <Modal title={`Members of ${team.data?.name ?? "…"}`} open onClose={props.onClose}>
      <ErrorBanner error={error ?? team.error} />
      <Table
        label="Members"
        rows={members}
        loading={team.loading}
        rowKey={(u) => u.id}
        empty="No members yet."
        columns={[
          { header: "User", render: (u) => <>{u.name || u.email} <span class="muted">{u.email}</span></> },
          { header: "Role", render: (u) => u.role },
          { header: "", class: "right", render: (u) => <Button variant="ghost" onClick={() => removeMember(u)}>Remove</Button> },
        ]}
      />
      <div class="inline-form">
        <label class="sr-only" for="add-member">Add a member</label>
        <select id="add-member" class="input" value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
          <option value="">Add a member…</option>
          {candidates.map((u) => <option value={u.id}>{u.email}</option>)}
        </select>
        <Button variant="primary" disabled={!pick} onClick={add}>Add</Button>
      </div>
    </Modal>
  );
}
