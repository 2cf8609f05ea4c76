import { api } from "../../api/client";
import { isStaff } from "../../api/session";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { useSession } from "../../lib/use-session";
import { answersOf, describeAnswer, percentText } from "./answers";
import { itemTypeLabels } from "../../lib/item-labels";

type GradingPhase = { phase: "recording" } | { phase: "waiting-for-grader"; items: string[] } | { phase: "graded"; gradeId: string } | null;

function phaseText(phase: GradingPhase, runtimeStatus: string | null): string {
  if (!phase) return runtimeStatus ? `Grading: ${runtimeStatus.toLowerCase()}` : "Grading has not started yet.";
  if (phase.phase === "recording") return "Being graded.";
  if (phase.phase === "waiting-for-grader") return `Waiting for a grader (${phase.items.length} ${phase.items.length === 1 ? "item" : "items"}).`;
  return "Graded.";
}

/** Where the grading orchestration stands: for course staff (learners are refused it, and see the released grade). */
function GradingStatus({ submissionId }: { submissionId: string }) {
  const grading = useApi(() => api.GET("/v1/submissions/{submissionId}/grading", { params: { path: { submissionId } } }), [submissionId]);
  if (!grading.data) return null;
  return (
    <>
      <dt>Grading</dt>
      <dd>
        {phaseText(grading.data.customStatus, grading.data.runtimeStatus)}
        {grading.data.customStatus?.phase === "waiting-for-grader" ? (
          <>
            {" "}
            <a href={`/submissions/${submissionId}/grade`}>Grade it</a>
          </>
        ) : null}
      </dd>
    </>
  );
}

/** The assessment and the released grade, from the learner's own list of submissions. */
function AssessmentAndGrade({ assessmentId, submissionId, submitted }: { assessmentId: string; submissionId: string; submitted: boolean }) {
  const mine = useApi(() => api.GET("/v1/me/submissions", { params: { query: { assessmentId, limit: 100 } } }), [assessmentId]);
  const listed = mine.data?.items.find((x) => x.id === submissionId);
  return (
    <>
      {listed ? (
        <>
          <dt>Assessment</dt>
          <dd>
            <a href={`/assessments/${listed.assessment.id}`}>{listed.assessment.title}</a>
          </dd>
        </>
      ) : null}
      <dt>Grade</dt>
      <dd>
        {mine.loading ? (
          "…"
        ) : listed?.grade ? (
          <>
            {percentText(listed.grade.percent)} · <a href={`/grades/${listed.grade.id}`}>How this grade was worked out</a>
          </>
        ) : submitted ? (
          "Not graded or not released yet."
        ) : (
          "—"
        )}
      </dd>
    </>
  );
}

/** A submission: the answers as submitted, where grading stands, and the grade once released. */
export default function Submission({ submissionId }: { submissionId: string }) {
  const { user } = useSession();
  const submission = useApi(() => api.GET("/v1/submissions/{submissionId}", { params: { path: { submissionId } } }), [submissionId]);
  const s = submission.data;
  const answers = s ? answersOf(s.answers) : {};
  return (
    <Page title={s ? `Submission: attempt ${s.number}` : "Submission"}>
      {submission.loading ? <Loading what="Loading the submission" /> : null}
      <Problem problem={submission.problem} />
      {s ? (
        <>
          <dl>
            <dt>Started</dt>
            <dd>{formatDateTime(s.startedAt)}</dd>
            <dt>Submitted</dt>
            <dd>
              {s.status === "submitted" ? formatDateTime(s.submittedAt) : "Not yet: the attempt is open"}
              {s.submittedBy === "deadline" ? " (by the server, at the deadline)" : ""}
            </dd>
            <AssessmentAndGrade assessmentId={s.assessmentId} submissionId={s.id} submitted={s.status === "submitted"} />
            {isStaff(user) ? <GradingStatus submissionId={s.id} /> : null}
          </dl>
          {s.status === "in-progress" ? (
            <p>
              <a href={`/attempts/${s.id}`}>Continue the attempt</a>
            </p>
          ) : null}
          <h2>Answers</h2>
          <ol class="card-list">
            {(s.items ?? []).map((item, i) => (
              <li key={item.id}>
                <article>
                  <h3>
                    Question {i + 1} <small class="muted">{itemTypeLabels[item.type]}</small>
                  </h3>
                  {item.prompt ? <p>{item.prompt}</p> : null}
                  <p>
                    <strong>Your answer:</strong>{" "}
                    {describeAnswer(item, answers[item.id])}
                    {item.type === "file" && s.files[item.id] ? (
                      <>
                        {" · "}
                        <a href={s.files[item.id]}>Download the file</a>
                      </>
                    ) : null}
                  </p>
                </article>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </Page>
  );
}
