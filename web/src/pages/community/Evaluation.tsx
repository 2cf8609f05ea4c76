import { useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

type Question = Schemas["CourseEvaluation"]["questions"][number];
type Answer = string | number | null;

const defaultLikert = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"];

/** One question as a fieldset of radio buttons (likert, choice) or a text area; required ones say so in words. */
function QuestionField({ q, value, onChange }: { q: Question; value: Answer; onChange: (v: Answer) => void }) {
  const legend = `${q.prompt}${q.required ? " (required)" : ""}`;
  if (q.kind === "text") {
    return (
      <label for={`q-${q.id}`}>
        {legend}
        <textarea id={`q-${q.id}`} rows={4} required={q.required} value={typeof value === "string" ? value : ""} onInput={(e) => onChange(e.currentTarget.value || null)} />
      </label>
    );
  }
  // likert answers are the scale's points 1..n (its labels from lowest to highest); choice answers the option itself.
  const options = q.kind === "likert" ? (q.options?.length ? q.options : defaultLikert).map((label, i) => ({ label, value: i + 1 as Answer })) : (q.options ?? []).map((o) => ({ label: o, value: o as Answer }));
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={String(o.value)}>
          <input type="radio" name={`q-${q.id}`} required={q.required} checked={value === o.value} onChange={() => onChange(o.value)} />
          {q.kind === "likert" ? `${String(o.value)}: ${o.label}` : o.label}
        </label>
      ))}
    </fieldset>
  );
}

/** Answering an open course evaluation, anonymously and once. */
export default function Evaluation({ courseId, evaluationId }: { courseId: string; evaluationId: string }) {
  const list = useApi(() => api.GET("/v1/courses/{courseId}/evaluations", { params: { path: { courseId } } }), [courseId]);
  const action = useAction();
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [sent, setSent] = useState(false);
  const evaluation = list.data?.items.find((e) => e.id === evaluationId);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (await action.run(() => api.POST("/v1/evaluations/{evaluationId}/responses", { params: { path: { evaluationId } }, body: { answers } }))) setSent(true);
  };

  return (
    <Page title={evaluation ? `Course evaluation: ${evaluation.term}` : "Course evaluation"}>
      {list.loading && !list.data ? <Loading what="Loading the evaluation" /> : null}
      <Problem problem={list.problem} />
      {list.data && !evaluation ? <p>This evaluation is not open to you. It may have closed.</p> : null}
      {sent ? (
        <p role="status">Thank you: your answers are recorded, without your name.</p>
      ) : evaluation?.answered ? (
        <p role="status">You have answered this evaluation. Thank you.</p>
      ) : evaluation && evaluation.status !== "open" ? (
        <p>This evaluation is {evaluation.status === "closed" ? "closed" : `not open yet (it opens ${formatDateTime(evaluation.opensAt)})`}.</p>
      ) : evaluation ? (
        <form onSubmit={submit}>
          <p>Your answers are anonymous: staff see only totals. You can answer once, until {formatDateTime(evaluation.closesAt)}.</p>
          {evaluation.questions.map((q) => (
            <QuestionField key={q.id} q={q} value={answers[q.id] ?? null} onChange={(v) => setAnswers((a) => ({ ...a, [q.id]: v }))} />
          ))}
          <Problem problem={action.problem} />
          <button type="submit" disabled={action.pending}>
            Send my answers
          </button>
        </form>
      ) : null}
      <p>
        <a href={`/courses/${courseId}`}>Back to the course</a>
      </p>
    </Page>
  );
}
