import "./admin.css";
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { TableScroll } from "../../components/TableScroll";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { type AuditAction, auditActions } from "./admin-types";
import { Pager } from "../../components/Pager";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A datetime-local value (the reader's zone) as an ISO instant, and back. */
const toInstant = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocal = (iso: string | undefined) => {
  if (!iso || Number.isNaN(Date.parse(iso))) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

/** The audit log, newest first, filtered by action, actor, target and time, a page at a time. */
export default function AuditLog() {
  const { query, route } = useLocation();
  const action = auditActions.find((a) => a === query.action) as AuditAction | undefined;
  const actorUserId = query.actorUserId || undefined;
  const targetId = query.targetId || undefined;
  const from = query.from || undefined;
  const to = query.to || undefined;
  const cursor = query.cursor;
  const [form, setForm] = useState({ action: action ?? "", actorUserId: actorUserId ?? "", targetId: targetId ?? "", from: toLocal(from), to: toLocal(to) });
  const [formError, setFormError] = useState<string | null>(null);
  const entries = useApi(
    () => api.GET("/v1/audit-log", { params: { query: { action, actorUserId, targetId, from, to, cursor, limit: 25 } } }),
    [action, actorUserId, targetId, from, to, cursor],
  );

  const filter = (e: Event) => {
    e.preventDefault();
    const actor = form.actorUserId.trim();
    if (actor && !uuid.test(actor)) {
      setFormError("The actor is a user id (a UUID, shown on the user's page).");
      return;
    }
    setFormError(null);
    const params = new URLSearchParams(
      Object.entries({ action: form.action, actorUserId: actor, targetId: form.targetId.trim(), from: toInstant(form.from), to: toInstant(form.to) }).filter(([, v]) => v),
    );
    route(params.size ? `/administration/audit-log?${params.toString()}` : "/administration/audit-log");
  };

  return (
    <Page title="Audit log">
      <form onSubmit={filter} aria-label="Filter the audit log">
        <div class="grid">
          <label for="audit-action">
            Action
            <select id="audit-action" value={form.action} onChange={(e) => setForm({ ...form, action: e.currentTarget.value })}>
              <option value="">Any action</option>
              {auditActions.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
          <label for="audit-actor">
            Actor (user id)
            <input
              id="audit-actor"
              value={form.actorUserId}
              aria-invalid={formError ? true : undefined}
              aria-describedby={formError ? "audit-actor-error" : undefined}
              onInput={(e) => setForm({ ...form, actorUserId: e.currentTarget.value })}
            />
            {formError ? (
              <small id="audit-actor-error" class="field-error">
                {formError}
              </small>
            ) : null}
          </label>
          <label for="audit-target">
            Target id
            <input id="audit-target" value={form.targetId} onInput={(e) => setForm({ ...form, targetId: e.currentTarget.value })} />
          </label>
        </div>
        <div class="grid">
          <label for="audit-from">
            From
            <input id="audit-from" type="datetime-local" value={form.from} onInput={(e) => setForm({ ...form, from: e.currentTarget.value })} />
          </label>
          <label for="audit-to">
            To
            <input id="audit-to" type="datetime-local" value={form.to} onInput={(e) => setForm({ ...form, to: e.currentTarget.value })} />
          </label>
        </div>
        <button type="submit">Filter</button>
      </form>
      {entries.loading ? <Loading what="Loading the audit log" /> : null}
      <Problem problem={entries.problem} />
      {entries.data ? (
        entries.data.items.length === 0 ? (
          <p role="status">No entry matches.</p>
        ) : (
          <TableScroll label="Audit log entries, newest first">
            <table>
              <caption class="visually-hidden">Audit log entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>{formatDateTime(entry.occurredAt)}</td>
                    <th scope="row">{entry.action}</th>
                    <td>{entry.actorUserId ? <a href={`/administration/users/${entry.actorUserId}`}>{entry.actorUserId.slice(-8)}</a> : "system"}</td>
                    <td>
                      {entry.targetType === "user" && entry.targetId ? (
                        <a href={`/administration/users/${entry.targetId}`}>user {entry.targetId.slice(-8)}</a>
                      ) : (
                        [entry.targetType, entry.targetId].filter(Boolean).join(" ") || "—"
                      )}
                    </td>
                    <td>
                      <code>{Object.keys(entry.details).length ? JSON.stringify(entry.details) : ""}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path="/administration/audit-log" query={{ action, actorUserId, targetId, from, to, cursor }} nextCursor={entries.data?.nextCursor} />
    </Page>
  );
}
