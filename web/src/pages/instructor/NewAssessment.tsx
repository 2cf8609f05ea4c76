import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useFocusAfterAction } from "../../lib/focus";
import { useAction } from "../../lib/use-api";
import { type ItemDraft, type LatePolicy, newItem, toItemsAndKeys } from "./assessment-items";
import { ItemEditor } from "./item-editor";

/** A datetime-local value (the reader's zone) as an ISO instant, or null when empty. */
const instant = (local: string) => (local ? new Date(local).toISOString() : null);
const optionalInt = (text: string) => (text.trim() === "" ? null : Number(text));

/** Builds a quiz or an assignment: items of every type with their keys, then points, dates, limits and late policy. */
export default function NewAssessment({ courseId }: { courseId: string }) {
  const { route } = useLocation();
  const action = useAction();
  const [title, setTitle] = useState("");
  const [kind, setKind] = useState<"quiz" | "assignment">("quiz");
  const [items, setItems] = useState<ItemDraft[]>([newItem()]);
  const [dueAt, setDueAt] = useState("");
  const [timeLimit, setTimeLimit] = useState("");
  const [attempts, setAttempts] = useState("1");
  const [late, setLate] = useState<LatePolicy["kind"]>("none");
  const [latePercent, setLatePercent] = useState("10");
  const [manualRelease, setManualRelease] = useState(false);
  const [required, setRequired] = useState(false);

  // "Remove item n" goes with its item: focus moves to the count, which says what is left.
  const removed = useFocusAfterAction<HTMLParagraphElement>();
  const total = items.reduce((sum, i) => sum + (Number.isFinite(i.points) ? i.points : 0), 0);

  const submit = async (e: Event) => {
    e.preventDefault();
    const latePolicy: LatePolicy = late === "per-day" || late === "per-hour" ? { kind: late, percent: Number(latePercent) } : { kind: late };
    const created = await action.run(() =>
      api.POST("/v1/courses/{courseId}/assessments", {
        params: { path: { courseId } },
        body: {
          title,
          kind,
          ...toItemsAndKeys(items),
          dueAt: instant(dueAt),
          timeLimitMinutes: optionalInt(timeLimit),
          attemptsAllowed: optionalInt(attempts),
          latePolicy,
          releaseMode: manualRelease ? "manual" : "immediate",
          requiredForCompletion: required,
        },
      }),
    );
    if (created) route(`/courses/${courseId}/manage`);
  };

  return (
    <Page title="New assessment">
      <p>
        <a href={`/courses/${courseId}/manage`}>Back to the course</a>
      </p>
      <form onSubmit={submit}>
        <Field label="Title" name="title" required value={title} error={fieldError(action.problem, "body.title")} onInput={(e) => setTitle(e.currentTarget.value)} />
        <fieldset>
          <legend>Kind</legend>
          <label>
            <input type="radio" name="kind" checked={kind === "quiz"} onChange={() => setKind("quiz")} /> Quiz
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === "assignment"} onChange={() => setKind("assignment")} /> Assignment
          </label>
        </fieldset>

        <h2>Items</h2>
        <p class="muted" role="status" tabIndex={-1} ref={removed.ref}>
          {items.length} {items.length === 1 ? "item" : "items"}, {total} points in all
        </p>
        {items.map((item, i) => (
          <ItemEditor
            key={i}
            index={i}
            item={item}
            onChange={(next) => setItems(items.map((x, j) => (j === i ? next : x)))}
            onRemove={() => {
              setItems(items.filter((_, j) => j !== i));
              removed.focusAfter();
            }}
          />
        ))}
        <button type="button" class="secondary" onClick={() => setItems([...items, newItem()])}>
          Add an item
        </button>

        <h2>Rules</h2>
        <div class="grid">
          <Field label="Due" type="datetime-local" value={dueAt} error={fieldError(action.problem, "body.dueAt")} onInput={(e) => setDueAt(e.currentTarget.value)} />
          <Field label="Time limit (minutes)" type="number" min={1} hint="Empty: no limit" value={timeLimit} error={fieldError(action.problem, "body.timeLimitMinutes")} onInput={(e) => setTimeLimit(e.currentTarget.value)} />
          <Field label="Attempts allowed" type="number" min={1} hint="Empty: unlimited" value={attempts} error={fieldError(action.problem, "body.attemptsAllowed")} onInput={(e) => setAttempts(e.currentTarget.value)} />
        </div>
        <div class="grid">
          <label for="late-policy">
            Late work
            <select id="late-policy" value={late} onChange={(e) => setLate(e.currentTarget.value as LatePolicy["kind"])}>
              <option value="none">Accepted, no penalty</option>
              <option value="no-late-work">Not accepted</option>
              <option value="per-day">Penalty per day late</option>
              <option value="per-hour">Penalty per hour late</option>
            </select>
          </label>
          {late === "per-day" || late === "per-hour" ? (
            <Field label="Penalty (%)" type="number" min={0} max={100} value={latePercent} onInput={(e) => setLatePercent(e.currentTarget.value)} />
          ) : null}
        </div>
        <label>
          <input type="checkbox" checked={manualRelease} onChange={(e) => setManualRelease(e.currentTarget.checked)} /> Release grades by hand (learners see them when you release)
        </label>
        <label>
          <input type="checkbox" checked={required} onChange={(e) => setRequired(e.currentTarget.checked)} /> Required for completion (a passing grade is needed
          for the certificate)
        </label>
        <Problem problem={action.problem} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending || items.length === 0}>
          Create assessment
        </button>
      </form>
    </Page>
  );
}
