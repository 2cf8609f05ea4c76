import { api, type Schemas } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { assessmentKindLabel } from "../../lib/item-labels";

/** The course's quizzes and assignments, each linked to its page, with its due date and whether it is open now. */
export function CourseAssessments({ courseId }: { courseId: string }) {
  const list = useApi(() => api.GET("/v1/courses/{courseId}/assessments", { params: { path: { courseId } } }), [courseId]);
  return (
    <section aria-labelledby="assessments-heading">
      <h2 id="assessments-heading">Assessments</h2>
      {list.loading && !list.data ? <Loading what="Loading the assessments" /> : null}
      <Problem problem={list.problem} />
      {list.data?.items.length === 0 ? <p>No quizzes or assignments yet.</p> : null}
      {list.data && list.data.items.length > 0 ? (
        <ul aria-label="Assessments of this course">
          {list.data.items.map((a) => (
            <li key={a.id}>
              <a href={`/assessments/${a.id}`}>{a.title}</a>
              <span class="muted">
                {" "}
                — {assessmentKindLabel(a.kind)}, {a.dueAt ? `due ${formatDateTime(a.dueAt)}` : "no due date"}, {assessmentState(a)}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Whether an assessment can be taken now, in words (from its dates; the server decides on Start). */
export function assessmentState(a: Pick<Schemas["Assessment"], "availableFrom" | "dueAt" | "lockAt">, now = Date.now()): string {
  if (a.availableFrom && Date.parse(a.availableFrom) > now) return `opens ${formatDateTime(a.availableFrom)}`;
  if (a.lockAt && Date.parse(a.lockAt) <= now) return "closed";
  if (a.dueAt && Date.parse(a.dueAt) <= now) return "past due";
  return "open";
}
