// Users (admins): list with search, role filter and pages in the URL;
// create, edit (name, role, disabled) and reset a password in dialogs with
// field errors; disabling asks first (it also signs the user out).
import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { Page, User } from "../api/types";
import { confirm, Modal, toast } from "../components/dialog";
import { Badge, Button, ErrorBanner, Field, FormError, PageHeader, Pager, SearchBox, submitErrors, Table, type Errors } from "../components/ui";
import { fmtAgo, fmtTime } from "../lib/format";
import { useQueryParams, useResource, useSession } from "../lib/hooks";
import { checkUser, passwordError, type UserForm } from "../lib/promptAudit";
import { session } from "../lib/session";
import "./prompts.css";

const PER_PAGE = 20;

export default function Users() {
  const s = useSession();
  const [q, setQ] = useQueryParams();
  const page = Number(q.page ?? 1) || 1;
  const users = useResource(
    (signal) => (session.isAdmin ? api.get<Page<User>>("/users", { q: q.q, role: q.role, page, per_page: PER_PAGE }, signal) : Promise.resolve(null)),
    [q.q, q.role, page],
  );
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);

  if (!session.isAdmin) {
    return (
      <>
        <PageHeader title="Users" />
        <div class="empty">Only admins manage users.</div>
      </>
    );
  }

  const setDisabled = async (u: User, disabled: boolean) => {
    if (disabled && !(await confirm({
      title: "Disable user",
      message: <>Disable <b>{u.email}</b>? They are signed out now and cannot log in until enabled again.</>,
      confirmLabel: "Disable user",
    }))) return;
    try {
      await api.patch(`/users/${u.id}`, { disabled });
      toast(`${u.email} ${disabled ? "disabled" : "enabled"}`);
      users.reload();
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  return (
    <>
      <PageHeader title="Users" subtitle="People who sign in to the console. Admins manage everything; members see their teams." actions={<Button variant="primary" onClick={() => setEditing("new")}>New user</Button>} />
      <div class="toolbar">
        <SearchBox value={q.q ?? ""} onChange={(v) => setQ({ q: v })} placeholder="Search by email or name" label="Search users" />
        <label class="sr-only" for="user-role-filter">Role</label>
        <select id="user-role-filter" class="input" value={q.role ?? ""} onChange={(e) => setQ({ role: (e.target as HTMLSelectElement).value })}>
          <option value="">All roles</option>
          <option value="admin">Admins</option>
          <option value="member">Members</option>
        </select>
      </div>
      <ErrorBanner error={users.error} />
      <Table
        label="Users"
        rows={users.data?.data}
        loading={users.loading}
        rowKey={(u) => u.id}
        onRow={(u) => setEditing(u)}
        empty={q.q || q.role ? "No users match." : "No users yet."}
        columns={[
          { header: "Email", render: (u) => <><b>{u.email}</b>{u.id === s?.user.id && <span class="muted small"> (you)</span>}</> },
          { header: "Name", render: (u) => u.name || <span class="muted">—</span> },
          { header: "Role", render: (u) => <Badge tone={u.role === "admin" ? "blue" : "gray"}>{u.role}</Badge> },
          { header: "Status", render: (u) => (u.disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">active</Badge>) },
          { header: "Created", render: (u) => <span title={fmtTime(u.created_at)}>{fmtAgo(u.created_at)}</span> },
          { header: "", class: "right", render: (u) => (
            <span class="row-actions">
              <Button variant="ghost" aria-label={`Edit ${u.email}`} onClick={() => setEditing(u)}>Edit</Button>
              <Button variant="ghost" aria-label={`Reset password of ${u.email}`} onClick={() => setResetting(u)}>Reset password</Button>
              {u.disabled
                ? <Button variant="ghost" aria-label={`Enable ${u.email}`} onClick={() => setDisabled(u, false)}>Enable</Button>
                : <Button variant="ghost" aria-label={`Disable ${u.email}`} onClick={() => setDisabled(u, true)}>Disable</Button>}
            </span>
          ) },
        ]}
      />
      {users.data && <Pager page={page} perPage={PER_PAGE} total={users.data.total} onPage={(p) => setQ({ page: p })} />}
      <UserDialog user={editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); users.reload(); }} />
      <PasswordDialog user={resetting} onClose={() => setResetting(null)} />
    </>
  );
}

function UserDialog(props: { user: User | "new" | null; onClose: () => void; onSaved: () => void }) {
  const existing = props.user && props.user !== "new" ? props.user : null;
  const creating = props.user === "new";
  const [f, setF] = useState<UserForm>({ email: "", name: "", role: "member", password: "" });
  const [disabled, setDisabled] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.user !== shownFor) {
    setShownFor(props.user);
    setF({ email: existing?.email ?? "", name: existing?.name ?? "", role: existing?.role ?? "member", password: "" });
    setDisabled(existing?.disabled ?? false);
    setErrors({});
  }
  const set = (patch: Partial<UserForm>) => setF({ ...f, ...patch });
  const submit = async (e: Event) => {
    e.preventDefault();
    const errs = checkUser(f, creating);
    if (Object.keys(errs).length) return setErrors(errs);
    if (existing && disabled && !existing.disabled && !(await confirm({
      title: "Disable user",
      message: <>Disable <b>{existing.email}</b>? They are signed out now and cannot log in until enabled again.</>,
      confirmLabel: "Disable user",
    }))) return;
    setBusy(true);
    try {
      if (existing) {
        await api.patch(`/users/${existing.id}`, { name: f.name.trim(), role: f.role, disabled });
        toast(`${existing.email} saved`);
      } else {
        await api.post("/users", { email: f.email.trim(), name: f.name.trim(), role: f.role, password: f.password });
        toast(`User ${f.email.trim()} created`);
      }
      props.onSaved();
    } catch (err) {
      setErrors(submitErrors(err, ["email", "name", "role", "password", "disabled"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={existing ? `Edit ${existing.email}` : "New user"} open={!!props.user} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError errors={errors} />
        {creating && (
          <Field label="Email" error={errors.email}>
            <input class="input" type="email" autoComplete="off" value={f.email} onInput={(e) => set({ email: (e.target as HTMLInputElement).value })} />
          </Field>
        )}
        <Field label="Name" error={errors.name}>
          <input class="input" value={f.name} maxLength={200} onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
        </Field>
        <Field label="Role" error={errors.role} hint="Admins manage everything; members manage their teams' services, consumers and prompts.">
          <select class="input" value={f.role} onChange={(e) => set({ role: (e.target as HTMLSelectElement).value as UserForm["role"] })}>
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
        </Field>
        {creating && (
          <Field label="Password" error={errors.password} hint="8 to 72 characters.">
            <input class="input" type="password" autoComplete="new-password" value={f.password} onInput={(e) => set({ password: (e.target as HTMLInputElement).value })} />
          </Field>
        )}
        {existing && (
          <div class="field">
            <label class="checkbox">
              <input type="checkbox" checked={disabled} onChange={(e) => setDisabled((e.target as HTMLInputElement).checked)} />
              <span>Disabled</span>
            </label>
            <small class="hint">A disabled user cannot log in; their sessions end.</small>
            {errors.disabled && <small class="field-error" role="alert">{errors.disabled}</small>}
          </div>
        )}
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create user"}</Button>
        </div>
      </form>
    </Modal>
  );
}

function PasswordDialog(props: { user: User | null; onClose: () => void }) {
  const [pw, setPw] = useState("");
  const [again, setAgain] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.user !== shownFor) {
    setShownFor(props.user);
    setPw(""); setAgain(""); setErrors({});
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const pe = passwordError(pw);
    if (pe) return setErrors({ password: pe });
    if (pw !== again) return setErrors({ again: "The two passwords differ." });
    setBusy(true);
    try {
      await api.post(`/users/${props.user!.id}/password`, { password: pw });
      toast(`Password of ${props.user!.email} reset; their sessions ended`);
      props.onClose();
    } catch (err) {
      setErrors(submitErrors(err, ["password"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Reset password of ${props.user?.email ?? ""}`} open={!!props.user} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError errors={errors} />
        <p class="muted">The user is signed out everywhere and logs in with the new password.</p>
        <Field label="New password" error={errors.password} hint="8 to 72 characters.">
          <input class="input" type="password" autoComplete="new-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Repeat the password" error={errors.again}>
          <input class="input" type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain((e.target as HTMLInputElement).value)} />
        </Field>
        <div class="form-actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Reset password</Button>
        </div>
      </form>
    </Modal>
  );
}
