// The subscription approval queue: consumers ask for a service through the
// data plane (POST /v1/subscriptions); here the service's team approves,
// rejects (with a reason) or later revokes (with a reason). Pending first;
// status, service, consumer, page and the open subscription live in the URL.
// The list, the decision buttons and the detail dialog are also used by
// the service and consumer detail pages.
import type { ComponentChildren } from "preact";
import { useEffect, useId, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api } from "../api/client";
import type { Consumer, Page, Service, Subscription, User } from "../api/types";
import { Modal, toast } from "../components/dialog";
import { Badge, Button, ErrorBanner, Field, PageHeader, Pager, Spinner, StatusBadge, Table, Tabs, type Column } from "../components/ui";
import { canDecide, decidedBy, mergeRows, statusFilter, statusTabs, useTeams, validateReason } from "../lib/access";
import { fmtAgo, fmtTime } from "../lib/format";
import { useInterval, useQueryParams, useResource } from "../lib/hooks";
import { session } from "../lib/session";
import "./access.css";

const PER_PAGE = 25;

type Action = "approve" | "reject" | "revoke";
const done: Record<Action, string> = { approve: "approved", reject: "rejected", revoke: "revoked" };

/** Who may decide, and how to name deciders: shared by every subscription list. */
export function useDeciders() {
  const teams = useTeams();
  const admin = session.isAdmin;
  const users = useResource<Map<number, string>>(
    (signal) => (admin ? api.get<Page<User>>("/users", { per_page: 200 }, signal).then((p) => new Map(p.data.map((u) => [u.id, u.email]))) : Promise.resolve(new Map())),
    [admin],
  );
  const mine = teams.teams.map((t) => t.id);
  const me = session.value?.user.id;
  return {
    can: (s: Subscription) => canDecide(s, admin, mine),
    by: (s: Subscription) => decidedBy(s, users.data ?? new Map(), me),
  };
}

/**
 * useDecide performs decisions: approve at once (the button shows
 * progress), reject and revoke through a dialog that requires a reason.
 * onDecided gets the updated subscription.
 */
export function useDecide(onDecided: (s: Subscription) => void) {
  const [busy, setBusy] = useState<number | null>(null);
  const [asking, setAsking] = useState<{ sub: Subscription; action: "reject" | "revoke" } | null>(null);

  const send = async (sub: Subscription, action: Action, reason?: string): Promise<void> => {
    const updated = await api.post<Subscription>(`/subscriptions/${sub.id}/${action}`, reason === undefined ? {} : { reason });
    toast(`Subscription of ${sub.consumer_name} to ${sub.service_name} ${done[action]}`);
    onDecided(updated);
  };
  const approve = async (sub: Subscription) => {
    setBusy(sub.id);
    try {
      await send(sub, "approve");
    } catch (e) {
      toast((e as Error).message, "error");
    } finally {
      setBusy(null);
    }
  };
  const dialog = (
    <ReasonDialog
      asking={asking}
      onClose={() => setAsking(null)}
      onSubmit={async (reason) => {
        if (!asking) return;
        await send(asking.sub, asking.action, reason);
        setAsking(null);
      }}
    />
  );
  return {
    busy,
    approve,
    reject: (sub: Subscription) => setAsking({ sub, action: "reject" }),
    revoke: (sub: Subscription) => setAsking({ sub, action: "revoke" }),
    dialog,
  };
}

type Decide = ReturnType<typeof useDecide>;

/** DecisionButtons: Approve/Reject for pending, Revoke for approved. */
export function DecisionButtons(props: { sub: Subscription; decide: Decide; can: boolean }) {
  const { sub, decide } = props;
  if (!props.can) return null;
  if (sub.status === "pending") {
    return (
      <span class="row-actions nowrap">
        <Button variant="primary" busy={decide.busy === sub.id} onClick={() => decide.approve(sub)}>Approve</Button>
        <Button disabled={decide.busy === sub.id} onClick={() => decide.reject(sub)}>Reject</Button>
      </span>
    );
  }
  if (sub.status === "approved") {
    return <span class="row-actions nowrap"><Button variant="ghost" onClick={() => decide.revoke(sub)}>Revoke</Button></span>;
  }
  return null;
}

function ReasonDialog(props: { asking: { sub: Subscription; action: "reject" | "revoke" } | null; onClose: () => void; onSubmit: (reason: string) => Promise<void> }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<unknown>(null);
  if (props.asking !== shownFor) {
    setShownFor(props.asking);
    setReason("");
    setError(undefined);
  }
  const a = props.asking;
  const revoke = a?.action === "revoke";
  const submit = async (e: Event) => {
    e.preventDefault();
    const bad = validateReason(reason);
    if (bad) return setError(bad);
    setBusy(true);
    try {
      await props.onSubmit(reason.trim());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={revoke ? "Revoke subscription" : "Reject subscription"} open={!!a} onClose={props.onClose}>
      {a && (
        <form onSubmit={submit} noValidate>
          <p>
            {revoke
              ? <>Revoke <b>{a.sub.consumer_name}</b>'s access to <b>{a.sub.service_name}</b>? Its calls are refused at once; it must ask again to subscribe.</>
              : <>Reject <b>{a.sub.consumer_name}</b>'s request for <b>{a.sub.service_name}</b>?</>}
          </p>
          <Field label="Reason" error={error} hint="The consumer's team sees it.">
            <textarea class="input prose" name="reason" rows={3} autoFocus maxLength={2000} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          </Field>
          <div class="form-actions">
            <Button onClick={props.onClose}>Cancel</Button>
            <Button type="submit" variant="danger" busy={busy}>{revoke ? "Revoke subscription" : "Reject subscription"}</Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

/** SubscriptionDetail: a subscription with its decision history and actions. */
export function SubscriptionDetail(props: { id: number; onClose: () => void; onDecided?: (s: Subscription) => void }) {
  const sub = useResource((signal) => api.get<Subscription>(`/subscriptions/${props.id}`, undefined, signal), [props.id]);
  const deciders = useDeciders();
  const [shown, setShown] = useState<Subscription | undefined>();
  useEffect(() => setShown(sub.data), [sub.data]);
  const decide = useDecide((s) => {
    setShown(s);
    props.onDecided?.(s);
  });
  const s = shown;
  return (
    <Modal title={`Subscription #${props.id}`} open onClose={props.onClose} wide>
      <ErrorBanner error={sub.error} />
      {!s && sub.loading && <Spinner />}
      {s && (
        <>
          <dl class="kv">
            <dt>Consumer</dt><dd><Link href={`/consumers/${s.consumer_id}`}>{s.consumer_name}</Link></dd>
            <dt>Service</dt><dd><Link href={`/services/${s.service_id}`}>{s.service_name}</Link> <span class="mono muted">{s.service_slug}</span></dd>
            <dt>Status</dt><dd><StatusBadge status={s.status} /></dd>
            <dt>Requested</dt><dd>{fmtTime(s.created_at)}</dd>
            <dt>Decided</dt><dd>{s.decided_at ? <>{deciders.by(s)} · {fmtTime(s.decided_at)}</> : "—"}</dd>
            <dt>Reason</dt><dd>{s.reason || "—"}</dd>
          </dl>
          <h3>History</h3>
          <div class="access-table compact"><Table
            label="Decision history"
            rows={s.events}
            rowKey={(e) => e.id}
            empty="No history recorded."
            columns={[
              { header: "Change", render: (e) => <span class="transition">{e.from ? <StatusBadge status={e.from} /> : <span class="muted">new</span>} <span aria-label="to">→</span> <StatusBadge status={e.to} /></span> },
              { header: "By", render: (e) => actorLabel(e.actor_email, s) },
              { header: "When", render: (e) => fmtTime(e.created_at) },
              { header: "Reason", render: (e) => e.reason || <span class="muted">—</span> },
            ]}
          /></div>
          <div class="form-actions">
            <DecisionButtons sub={s} decide={decide} can={deciders.can(s)} />
          </div>
        </>
      )}
      {decide.dialog}
    </Modal>
  );
}

/**
 * FilterSelect: a toolbar select whose accessible name is only its label
 * (a label wrapping a select would also read out every option).
 */
export function FilterSelect(props: { label: string; value: string; onChange: (v: string) => void; children: ComponentChildren }) {
  const id = useId();
  return (
    <span class="acc-filter">
      <label for={id}>{props.label}</label>
      <select id={id} class="input" value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>{props.children}</select>
    </span>
  );
}

/** SelectField: Field for a select, labelled by its label text alone. */
export function SelectField(props: { label: string; name: string; value: string; onChange: (v: string) => void; error?: string; hint?: ComponentChildren; children: ComponentChildren }) {
  const id = useId();
  return (
    <div class={`field ${props.error ? "has-error" : ""}`}>
      <label for={id} class="field-label">{props.label}</label>
      <select id={id} class="input" name={props.name} value={props.value} aria-invalid={props.error ? true : undefined}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>{props.children}</select>
      {props.hint && !props.error && <small class="hint">{props.hint}</small>}
      {props.error && <small class="field-error" role="alert">{props.error}</small>}
    </div>
  );
}

/** actorLabel reads the history's actor: a user's email, "consumer:ID" or "auto-approval". */
export function actorLabel(actor: string, sub?: Pick<Subscription, "consumer_id" | "consumer_name">): string {
  if (!actor) return "—";
  if (actor === "auto-approval") return "automatic approval";
  const m = /^consumer:(\d+)$/.exec(actor);
  if (m) return sub && Number(m[1]) === sub.consumer_id ? `${sub.consumer_name} (consumer)` : `consumer #${m[1]}`;
  return actor;
}

/**
 * subscriptionColumns: the columns of a subscription list; hide drops the
 * one a detail page already names.
 */
function subscriptionColumns(deciders: ReturnType<typeof useDeciders>, decide: Decide, hide?: "service" | "consumer"): Column<Subscription>[] {
  const cols: (Column<Subscription> | false)[] = [
    hide !== "consumer" && { header: "Consumer", render: (s) => <Link href={`/consumers/${s.consumer_id}`}>{s.consumer_name}</Link> },
    hide !== "service" && { header: "Service", render: (s) => <Link href={`/services/${s.service_id}`}>{s.service_name}</Link> },
    { header: "Requested", render: (s) => <span title={fmtTime(s.created_at)}>{fmtAgo(s.created_at)}</span> },
    { header: "Status", render: (s) => <StatusBadge status={s.status} /> },
    { header: "Decided", render: (s) => (s.decided_at ? <span title={fmtTime(s.decided_at)}>{deciders.by(s)} · {fmtAgo(s.decided_at)}</span> : <span class="muted">—</span>) },
    { header: "Reason", class: "reason", render: (s) => s.reason || <span class="muted">—</span> },
    { header: "", class: "right", render: (s) => <DecisionButtons sub={s} decide={decide} can={deciders.can(s)} /> },
  ];
  return cols.filter((c): c is Column<Subscription> => !!c);
}

/**
 * SubscriptionList: a service's or a consumer's subscriptions, with their
 * own pages and the same actions as the queue.
 */
export function SubscriptionList(props: { service_id?: number; consumer_id?: number; hide: "service" | "consumer" }) {
  const [page, setPage] = useState(1);
  const list = useResource(
    (signal) => api.get<Page<Subscription>>("/subscriptions", { service_id: props.service_id, consumer_id: props.consumer_id, page, per_page: 10 }, signal),
    [props.service_id, props.consumer_id, page],
  );
  const [updated, setUpdated] = useState(new Map<number, Subscription>());
  const [open, setOpen] = useState<number | null>(null);
  const onDecided = (s: Subscription) => setUpdated((m) => new Map(m).set(s.id, s));
  const deciders = useDeciders();
  const decide = useDecide(onDecided);
  const filter = props.service_id ? `service_id=${props.service_id}` : `consumer_id=${props.consumer_id}`;
  return (
    <>
      <ErrorBanner error={list.error} />
      <div class="access-table"><Table
        label="Subscriptions"
        rows={mergeRows(list.data?.data, updated)}
        loading={list.loading}
        rowKey={(s) => s.id}
        onRow={(s) => setOpen(s.id)}
        empty={props.hide === "service" ? "No consumer has asked for this service yet." : "This consumer has not asked for any service yet."}
        columns={subscriptionColumns(deciders, decide, props.hide)}
      /></div>
      <div class="subsection-foot">
        <Link href={`/subscriptions?status=all&${filter}`}>Open in the approval queue</Link>
        {list.data && <Pager page={page} perPage={10} total={list.data.total} onPage={setPage} />}
      </div>
      {decide.dialog}
      {open !== null && <SubscriptionDetail id={open} onClose={() => setOpen(null)} onDecided={onDecided} />}
    </>
  );
}

export default function Subscriptions() {
  const [q, setQ] = useQueryParams();
  const page = Number(q.page ?? 1) || 1;
  const { tab, query: status } = statusFilter(q.status);
  const serviceId = Number(q.service_id) || undefined;
  const consumerId = Number(q.consumer_id) || undefined;
  const list = useResource(
    (signal) => api.get<Page<Subscription>>("/subscriptions", { status, service_id: serviceId, consumer_id: consumerId, page, per_page: PER_PAGE }, signal),
    [status, serviceId, consumerId, page],
  );
  const pending = useResource((signal) => api.get<Page<Subscription>>("/subscriptions", { status: "pending", per_page: 1 }, signal), []);
  useInterval(pending.reload, 30_000);
  const services = useResource((signal) => api.get<Page<Service>>("/services", { per_page: 200 }, signal), []);
  const consumers = useResource((signal) => api.get<Page<Consumer>>("/consumers", { per_page: 200 }, signal), []);

  // Decided rows change in place (a row approved from the Pending tab stays
  // until the list is loaded again), and the pending count follows.
  const [updated, setUpdated] = useState(new Map<number, Subscription>());
  useEffect(() => setUpdated(new Map()), [list.data]);
  const onDecided = (s: Subscription) => {
    setUpdated((m) => new Map(m).set(s.id, s));
    pending.reload();
  };
  const deciders = useDeciders();
  const decide = useDecide(onDecided);
  const open = Number(q.sub) || null;
  const pendingCount = pending.data?.total;

  return (
    <>
      <PageHeader
        title="Subscriptions"
        subtitle={
          <>
            {pendingCount !== undefined && (
              <Badge tone={pendingCount ? "amber" : "green"}>{pendingCount === 0 ? "Nothing pending" : `${pendingCount} pending`}</Badge>
            )}{" "}
            Consumers ask for services through the gateway; a manual-approval service's team decides here.
          </>
        }
        actions={<Button variant="ghost" busy={list.loading && !!list.data} onClick={() => { list.reload(); pending.reload(); }}>Refresh</Button>}
      />
      <div class="status-tabs"><Tabs
        tabs={statusTabs.map((t) => ({ id: t.id, label: t.id === "pending" && pendingCount ? `${t.label} (${pendingCount})` : t.label }))}
        active={tab}
        onChange={(id) => setQ({ status: id === "pending" ? undefined : id })}
      /></div>
      <div class="toolbar">
        <FilterSelect label="Service" value={q.service_id ?? ""} onChange={(v) => setQ({ service_id: v })}>
          <option value="">All services</option>
          {services.data?.data.map((s) => <option value={s.id}>{s.name}</option>)}
        </FilterSelect>
        <FilterSelect label="Consumer" value={q.consumer_id ?? ""} onChange={(v) => setQ({ consumer_id: v })}>
          <option value="">All consumers</option>
          {consumers.data?.data.map((c) => <option value={c.id}>{c.name}</option>)}
        </FilterSelect>
      </div>
      <ErrorBanner error={list.error} />
      <div class="access-table wide"><Table
        label="Subscriptions"
        rows={mergeRows(list.data?.data, updated)}
        loading={list.loading}
        rowKey={(s) => s.id}
        onRow={(s) => setQ({ sub: s.id, page: q.page })}
        empty={tab === "pending" ? "No request is waiting for a decision." : "No subscriptions match."}
        columns={subscriptionColumns(deciders, decide)}
      /></div>
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
      {decide.dialog}
      {open !== null && <SubscriptionDetail id={open} onClose={() => setQ({ sub: undefined, page: q.page })} onDecided={onDecided} />}
    </>
  );
}
