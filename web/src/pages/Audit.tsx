// Audit log: every change, newest first (members see their teams'). Filters
// (resource, resource id, actor, since) and the page live in the URL; a
// row opens to show the object before and after, side by side.
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { AuditEntry, Page, User } from "../api/types";
import { Badge, Button, ErrorBanner, PageHeader, Pager } from "../components/ui";
import { fmtAgo, fmtTime } from "../lib/format";
import { useQueryParams, useResource, useSession } from "../lib/hooks";
import { auditResources, changedKeys, fromLocalInput, prettyJSON, toLocalInput } from "../lib/promptAudit";
import { session } from "../lib/session";
import "./prompts.css";

const PER_PAGE = 50;

export default function Audit() {
  useSession();
  const [q, setQ] = useQueryParams();
  const page = Number(q.page ?? 1) || 1;
  const list = useResource(
    (signal) => api.get<Page<AuditEntry>>("/audit", {
      resource: q.resource, resource_id: q.resource_id, actor_id: q.actor_id, since: q.since, page, per_page: PER_PAGE,
    }, signal),
    [q.resource, q.resource_id, q.actor_id, q.since, page],
  );
  // Only admins may list users; members filter by actor id.
  const users = useResource(
    (signal) => (session.isAdmin ? api.get<Page<User>>("/users", { per_page: 200 }, signal) : Promise.resolve(null)),
    [],
  );
  const [open, setOpen] = useState<number | null>(null);
  const [resourceId, setResourceId] = useState(q.resource_id ?? "");
  const filtered = !!(q.resource || q.resource_id || q.actor_id || q.since);
  const rows = list.data?.data;

  return (
    <>
      <PageHeader title="Audit log" subtitle="Who changed what, and when. Open a row to compare the object before and after." />
      <form class="toolbar audit-filters" onSubmit={(e) => { e.preventDefault(); setQ({ resource_id: resourceId.trim() }); }}>
        <label class="sr-only" for="audit-resource">Resource</label>
        <select id="audit-resource" class="input" value={q.resource ?? ""} onChange={(e) => setQ({ resource: (e.target as HTMLSelectElement).value })}>
          <option value="">All resources</option>
          {auditResources.map((r) => <option value={r}>{r}</option>)}
        </select>
        <label class="sr-only" for="audit-resource-id">Resource ID</label>
        <input id="audit-resource-id" class="input" placeholder="Resource ID" value={resourceId}
          onInput={(e) => setResourceId((e.target as HTMLInputElement).value)}
          onBlur={() => resourceId.trim() !== (q.resource_id ?? "") && setQ({ resource_id: resourceId.trim() })} />
        {session.isAdmin ? (
          <>
            <label class="sr-only" for="audit-actor">Actor</label>
            <select id="audit-actor" class="input" value={q.actor_id ?? ""} onChange={(e) => setQ({ actor_id: (e.target as HTMLSelectElement).value })}>
              <option value="">Any actor</option>
              {users.data?.data.map((u) => <option value={u.id}>{u.email}</option>)}
              {q.actor_id && !users.data?.data.some((u) => String(u.id) === q.actor_id) && <option value={q.actor_id}>user #{q.actor_id}</option>}
            </select>
          </>
        ) : (
          <>
            <label class="sr-only" for="audit-actor">Actor ID</label>
            <input id="audit-actor" class="input" inputMode="numeric" placeholder="Actor ID" value={q.actor_id ?? ""}
              onChange={(e) => setQ({ actor_id: (e.target as HTMLInputElement).value.replace(/\D/g, "") })} />
          </>
        )}
        <label class="inline-label" for="audit-since">Since</label>
        <input id="audit-since" class="input" type="datetime-local" value={toLocalInput(q.since)}
          onChange={(e) => setQ({ since: fromLocalInput((e.target as HTMLInputElement).value) })} />
        {filtered && <Button variant="ghost" onClick={() => { setResourceId(""); setQ({ resource: undefined, resource_id: undefined, actor_id: undefined, since: undefined }); }}>Clear filters</Button>}
      </form>
      <ErrorBanner error={list.error} />
      <div class="table-wrap">
        <table class="table" aria-label="Audit log" aria-busy={list.loading || undefined}>
          <thead>
            <tr>
              <th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col" class="hide-narrow">Changed</th>
            </tr>
          </thead>
          <tbody>
            {rows?.map((a) => {
              const expanded = open === a.id;
              const toggle = () => setOpen(expanded ? null : a.id);
              return (
                <Fragment key={a.id}>
                  <tr class="clickable" tabIndex={0} aria-expanded={expanded} onClick={toggle}
                    onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && e.target === e.currentTarget && (e.preventDefault(), toggle())}>
                    <td><span title={fmtTime(a.created_at)}>{fmtAgo(a.created_at)}</span></td>
                    <td>{a.actor_email || (a.actor_id ? `user #${a.actor_id}` : <span class="muted">system</span>)}</td>
                    <td><Badge tone={actionTone(a.action)}>{a.action}</Badge></td>
                    <td><button type="button" class="audit-toggle" aria-expanded={expanded} aria-label={`${expanded ? "Hide" : "Show"} changes to ${a.resource} ${a.resource_id}`} onClick={(e) => { e.stopPropagation(); toggle(); }}>
                      {a.resource} <span class="mono">{a.resource_id}</span>
                    </button></td>
                    <td class="audit-changed hide-narrow">{changedKeys(a.before, a.after).slice(0, 4).join(", ")}</td>
                  </tr>
                  {expanded && (
                    <tr class="audit-row-detail">
                      <td colSpan={5}>
                        <div class="audit-sides">
                          <div><h3>Before</h3><pre aria-label="Before">{prettyJSON(a.before) || "(nothing: created)"}</pre></div>
                          <div><h3>After</h3><pre aria-label="After">{prettyJSON(a.after) || "(nothing: deleted)"}</pre></div>
                        </div>
                        <p class="muted small">{fmtTime(a.created_at)} · entry #{a.id}{a.team_id ? ` · team #${a.team_id}` : ""}</p>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
        {list.loading && !rows && <div class="table-loading">Loading…</div>}
        {rows && rows.length === 0 && <div class="empty">{filtered ? "No entries match these filters." : "Nothing has been changed yet."}</div>}
      </div>
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQ({ page: p })} />}
    </>
  );
}

function actionTone(action: string): "green" | "red" | "amber" | "blue" | "gray" {
  if (/delete|revoke|reject|remove|unpublish|disable/.test(action)) return "red";
  if (/create|approve|publish|add/.test(action)) return "green";
  if (/update|rename|reset|password|rollback/.test(action)) return "amber";
  if (/login|logout/.test(action)) return "blue";
  return "gray";
}
