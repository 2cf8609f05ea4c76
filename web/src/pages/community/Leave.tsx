import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { useIdempotencyKey } from "../../lib/use-idempotency-key";
import { leaveStatusText } from "./leave-status";

/** `datetime-local` values are local wall-clock times; the API wants instants. */
const toInstant = (local: string) => new Date(local).toISOString();

/** My leave applications, and a form to apply for leave (approvers are told; the decision comes by notification). */
export default function Leave() {
  const { query, route } = useLocation();
  const cursor = query.cursor;
  const mine = useApi(() => api.GET("/v1/me/leave-applications", { params: { query: { cursor, limit: 20 } } }), [cursor]);
  const apply = useAction();
  const [form, setForm] = useState({ startsAt: "", endsAt: "", reason: "" });
  const applyKey = useIdempotencyKey(form);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!form.startsAt || !form.endsAt) return;
    const made = await apply.run(() =>
      api.POST("/v1/leave-applications", {
        params: { header: { "Idempotency-Key": applyKey } },
        body: { startsAt: toInstant(form.startsAt), endsAt: toInstant(form.endsAt), reason: form.reason },
      }),
    );
    if (made) route(`/leave-applications/${made.application.id}`);
  };

  return (
    <Page title="Leave">
      <h2>Apply for leave</h2>
      <form class="narrow" onSubmit={submit}>
        <Field label="From" type="datetime-local" required value={form.startsAt} error={fieldError(apply.problem, "body.startsAt")} onInput={(e) => setForm({ ...form, startsAt: e.currentTarget.value })} />
        <Field label="Until" type="datetime-local" required value={form.endsAt} error={fieldError(apply.problem, "body.endsAt")} onInput={(e) => setForm({ ...form, endsAt: e.currentTarget.value })} />
        <label for="leave-reason">
          Reason
          <textarea id="leave-reason" required rows={3} value={form.reason} onInput={(e) => setForm({ ...form, reason: e.currentTarget.value })} />
        </label>
        <Problem problem={apply.problem} />
        <button type="submit" disabled={apply.pending}>
          Apply
        </button>
      </form>
      <h2>My applications</h2>
      {mine.loading && !mine.data ? <Loading what="Loading your applications" /> : null}
      <Problem problem={mine.problem} />
      {mine.data ? (
        mine.data.items.length === 0 ? (
          <p>You have not applied for leave.</p>
        ) : (
          <ul aria-label="My leave applications">
            {mine.data.items.map((a) => (
              <li key={a.id}>
                <a href={`/leave-applications/${a.id}`}>
                  {formatDateTime(a.startsAt)} – {formatDateTime(a.endsAt)}
                </a>
                : {leaveStatusText[a.status]}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Pager path={"/leave"} query={query} nextCursor={mine.data?.nextCursor} nextLabel="Older applications" />
    </Page>
  );
}
