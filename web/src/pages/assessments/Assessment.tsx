import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { useIdempotencyKey } from "../../lib/use-idempotency-key";
import { describeLatePolicy, percentText } from "./answers";
import { assessmentKindLabel } from "../../lib/item-labels";
import { TableScroll } from "../../components/TableScroll";

/** An assessment for a learner: what it is, Start (or Resume the open attempt), and the earlier submissions. */
export default function Assessment({ assessmentId }: { assessmentId: string }) {
  const { route } = useLocation();
  const assessment = useApi(() => api.GET("/v1/assessments/{assessmentId}", { params: { path: { assessmentId } } }), [assessmentId]);
  const mine = useApi(() => api.GET("/v1/me/submissions", { params: { query: { assessmentId, limit: 100 } } }), [assessmentId]);
  const start = useAction();
  const startKey = useIdempotencyKey(`start-${assessmentId}`);

  const a = assessment.data;
  const attempts = mine.data?.items ?? [];
  const open = attempts.find((s) => s.status === "in-progress");
  const attemptsLeft = a?.attemptsAllowed == null ? null : Math.max(0, a.attemptsAllowed - attempts.length);

  const begin = async () => {
    // One key per page: a double press, or a retry after a network failure, starts one attempt, not two.
    const started = await start.run(() => api.POST("/v1/assessments/{assessmentId}/attempts", { params: { path: { assessmentId }, header: { "Idempotency-Key": startKey } } }));
    if (started) route(`/attempts/${started.id}`);
  };

  return (
    <Page title={a?.title ?? "Assessment"}>
      {assessment.loading ? <Loading what="Loading the assessment" /> : null}
      <Problem problem={assessment.problem} />
      {a ? (
        <>
          <dl>
            <dt>Type</dt>
            <dd>
              {assessmentKindLabel(a.kind)} · {a.category}
            </dd>
            {a.totalPoints != null ? (
              <>
                <dt>Points</dt>
                <dd>{a.totalPoints}</dd>
              </>
            ) : null}
            {a.availableFrom ? (
              <>
                <dt>Opens</dt>
                <dd>{formatDateTime(a.availableFrom)}</dd>
              </>
            ) : null}
            <dt>Due</dt>
            <dd>{a.dueAt ? formatDateTime(a.dueAt) : "No due date"}</dd>
            {a.lockAt ? (
              <>
                <dt>Closes</dt>
                <dd>{formatDateTime(a.lockAt)}</dd>
              </>
            ) : null}
            <dt>Time limit</dt>
            <dd>{a.timeLimitMinutes ? `${a.timeLimitMinutes} minutes from the start` : "None"}</dd>
            <dt>Attempts</dt>
            <dd>{a.attemptsAllowed == null ? "Unlimited" : `${attemptsLeft} of ${a.attemptsAllowed} left`}</dd>
            <dt>Late work</dt>
            <dd>{describeLatePolicy(a.latePolicy)}</dd>
          </dl>
          <Problem problem={start.problem} />
          {open ? (
            <p>
              <a href={`/attempts/${open.id}`}>
                Resume attempt {open.number}
              </a>
            </p>
          ) : attemptsLeft !== 0 ? (
            <p>
              <button type="button" onClick={begin} aria-busy={start.pending} disabled={start.pending}>
                Start
              </button>
              {a.timeLimitMinutes ? <small class="muted"> The clock starts when you press Start.</small> : null}
            </p>
          ) : (
            <p role="status">You have used every attempt.</p>
          )}
        </>
      ) : null}
      <h2>Your submissions</h2>
      <Problem problem={mine.problem} />
      {mine.data && attempts.filter((s) => s.status === "submitted").length === 0 ? <p>Nothing submitted yet.</p> : null}
      {attempts.some((s) => s.status === "submitted") ? (
        <TableScroll label="Your submissions of this assessment">
          <table>
            <caption class="visually-hidden">Your submissions of this assessment</caption>
            <thead>
              <tr>
                <th scope="col">Attempt</th>
                <th scope="col">Submitted</th>
                <th scope="col">Grade</th>
              </tr>
            </thead>
            <tbody>
              {attempts
                .filter((s) => s.status === "submitted")
                .map((s) => (
                  <tr key={s.id}>
                    <th scope="row">
                      <a href={`/submissions/${s.id}`}>Attempt {s.number}</a>
                    </th>
                    <td>
                      {formatDateTime(s.submittedAt)}
                      {s.submittedBy === "deadline" ? " (at the deadline)" : ""}
                    </td>
                    <td>{s.grade ? <a href={`/grades/${s.grade.id}`}>{percentText(s.grade.percent)}</a> : "Not graded yet"}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
    </Page>
  );
}
