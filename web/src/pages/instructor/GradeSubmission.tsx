import { useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { Field } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useFocusAfterAction } from "../../lib/focus";
import { useAction, useApi } from "../../lib/use-api";
import { type CriterionChoice, RubricScorer } from "./rubric-scorer";

interface Score {
  points: string;
  feedback: string;
  criteria: CriterionChoice[];
}

/** Everything grading needs in one load: the submission, what still waits for a grader, and the items' rubrics. */
async function loadGrading(submissionId: string) {
  const path = { submissionId };
  const [submission, grading] = await Promise.all([api.GET("/v1/submissions/{submissionId}", { params: { path } }), api.GET("/v1/submissions/{submissionId}/grading", { params: { path } })]);
  if (!submission.data) return { error: submission.error, response: submission.response };
  if (!grading.data) return { error: grading.error, response: grading.response };
  const assessment = await api.GET("/v1/assessments/{assessmentId}", { params: { path: { assessmentId: submission.data.assessmentId } } });
  if (!assessment.data) return { error: assessment.error, response: assessment.response };
  const rubricIds = [...new Set(Object.values(assessment.data.rubrics.items))];
  const rubrics = await Promise.all(rubricIds.map((rubricId) => api.GET("/v1/rubrics/{rubricId}", { params: { path: { rubricId } } })));
  // A rubric that fails to load stops the page: grading by plain points would bypass the rubric the item carries.
  const failed = rubrics.find((r) => !r.data);
  if (failed) return { error: failed.error, response: failed.response };
  const byId = new Map(rubrics.flatMap((r) => (r.data ? [[r.data.id, r.data] as const] : [])));
  const status = grading.data.customStatus;
  return {
    data: {
      submission: submission.data,
      assessment: assessment.data,
      waiting: status?.phase === "waiting-for-grader" ? status.items : [],
      phase: status?.phase ?? null,
      rubricOf: (itemId: string): Schemas["Rubric"] | undefined => byId.get(assessment.data.rubrics.items[itemId] ?? ""),
      // Items are numbered as the editor and the explanation number them (ids drawn from a bank are opaque).
      numberOf: (itemId: string): number => {
        const inAssessment = assessment.data.items.findIndex((i) => i.id === itemId);
        return (inAssessment >= 0 ? inAssessment : (submission.data.items ?? []).findIndex((i) => i.id === itemId)) + 1;
      },
    },
    response: submission.response,
  };
}

/** An answer as plain text (never as HTML: it is the learner's own words). */
function answerText(answer: unknown): string {
  if (answer == null || answer === "") return "No answer.";
  return typeof answer === "string" ? answer : JSON.stringify(answer);
}

/**
 * Manual grading of a submission's essay and file items: points and feedback per item, or the item's rubric where
 * one is attached. Once every item is scored the grading run records the grade and the submission leaves the queue.
 */
export default function GradeSubmission({ submissionId }: { submissionId: string }) {
  const loaded = useApi(() => loadGrading(submissionId), [submissionId]);
  const action = useAction();
  const [scores, setScores] = useState<Record<string, Score>>({});
  const [said, setSaid] = useState("");
  // Saving may remove the whole form (nothing left to grade): focus goes to the status that says so.
  const saved = useFocusAfterAction<HTMLParagraphElement>();

  if (loaded.loading && !loaded.data) return <Loading what="Loading the submission" />;
  if (!loaded.data)
    return (
      <Page title="Grade a submission">
        <Problem problem={loaded.problem} />
      </Page>
    );
  const { submission, assessment, waiting, rubricOf, numberOf } = loaded.data;
  const manual = (submission.items ?? []).filter((i) => waiting.includes(i.id));
  const scoreOf = (itemId: string): Score => scores[itemId] ?? { points: "", feedback: "", criteria: [] };
  const setScore = (itemId: string, next: Partial<Score>) => setScores({ ...scores, [itemId]: { ...scoreOf(itemId), ...next } });

  const submit = async (e: Event) => {
    e.preventDefault();
    const body = {
      scores: manual.map((item) => {
        const s = scoreOf(item.id);
        return rubricOf(item.id) ? { itemId: item.id, feedback: s.feedback, rubric: { criteria: s.criteria } } : { itemId: item.id, points: Number(s.points), feedback: s.feedback };
      }),
    };
    const result = await action.run(() => api.POST("/v1/submissions/{submissionId}/grades", { params: { path: { submissionId } }, body }));
    if (result) {
      setSaid(result.waitingItems.length === 0 ? "Graded. The grade is being recorded and the submission has left the queue." : `Saved. Still waiting: ${result.waitingItems.map((id) => `item ${numberOf(id)}`).join(", ")}.`);
      setScores({});
      saved.focusAfter();
      loaded.reload();
    }
  };

  return (
    <Page title={`Grade: ${assessment.title}`}>
      <p>
        <a href={`/courses/${assessment.courseId}/grading`}>Back to the grading queue</a>
      </p>
      <p class="muted">
        Attempt {submission.number}, submitted {formatDateTime(submission.submittedAt)}
        {submission.submittedBy === "deadline" ? " (at the deadline)" : ""}
      </p>
      <p role="status" tabIndex={-1} ref={saved.ref}>
        {said}
      </p>
      {manual.length === 0 ? (
        <p>{loaded.data.phase === "graded" ? "This submission is graded." : "No item of this submission is waiting for a grader."}</p>
      ) : (
        <form onSubmit={submit}>
          {manual.map((item, n) => {
            const rubric = rubricOf(item.id);
            const s = scoreOf(item.id);
            const fileUrl = submission.files?.[item.id];
            const number = numberOf(item.id);
            return (
              <article key={item.id} aria-labelledby={`item-${n}`}>
                <h2 id={`item-${n}`}>
                  Item {number} <span class="muted">({item.points} points)</span>
                </h2>
                <p>{item.prompt}</p>
                <h3>Answer</h3>
                {item.type === "file" ? (
                  fileUrl ? (
                    <p>
                      <a href={fileUrl}>Download the learner’s file</a>
                    </p>
                  ) : (
                    <p>No file.</p>
                  )
                ) : (
                  <blockquote class="answer">{answerText(submission.answers[item.id])}</blockquote>
                )}
                {rubric ? (
                  <RubricScorer rubric={rubric} value={s.criteria} onChange={(criteria) => setScore(item.id, { criteria })} />
                ) : (
                  <Field label={`Points for item ${number} (out of ${item.points})`} type="number" min={0} max={item.points} step="any" required value={s.points} onInput={(e) => setScore(item.id, { points: e.currentTarget.value })} />
                )}
                <label for={`feedback-${n}`}>
                  Feedback on item {number}
                  <textarea id={`feedback-${n}`} rows={3} value={s.feedback} onInput={(e) => setScore(item.id, { feedback: e.currentTarget.value })} />
                </label>
              </article>
            );
          })}
          <Problem problem={action.problem} />
          <button type="submit" aria-busy={action.pending} disabled={action.pending}>
            Save grades
          </button>
        </form>
      )}
    </Page>
  );
}
