import { useLocation } from "preact-iso";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, problemOf, type Problem as ProblemBody, type Schemas } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime, formatDuration } from "../../lib/format";
import { useAction } from "../../lib/use-api";
import { type Answer, answersOf } from "./answers";
import { ItemAnswer } from "./ItemAnswer";
import { type SaveState, useAutosave } from "./use-autosave";
import { clockSkew, useCountdown } from "./use-countdown";

type Attempt = Schemas["Attempt"];

function saveText(state: SaveState): string {
  switch (state.kind) {
    case "idle":
      return "Your answers are saved as you go.";
    case "saving":
      return "Saving…";
    case "saved":
      return `Saved at ${state.at.toLocaleTimeString()}`;
    case "failed":
      return `Not saved: ${state.why}`;
  }
}

/** Taking an attempt: its items, the server's deadline counted down, answers saved as they change, and Submit. */
export default function Attempt({ attemptId }: { attemptId: string }) {
  const { route } = useLocation();
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [skew, setSkew] = useState(0);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [title, setTitle] = useState<string | null>(null);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const autosave = useAutosave(attemptId, attempt?.deadlineAt ? Date.parse(attempt.deadlineAt) - skew : null);
  const submit = useAction();
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    setAttempt(null);
    void (async () => {
      const { data, error, response } = await api.GET("/v1/attempts/{attemptId}", { params: { path: { attemptId } } });
      if (!data) return setProblem(problemOf(error, response));
      // The assessment's title for the heading, fetched before showing the page so the heading (which takes the
      // focus) does not change under the learner; the attempt is usable without it.
      const named = await api.GET("/v1/assessments/{assessmentId}", { params: { path: { assessmentId: data.assessmentId } } }).catch(() => null);
      setTitle(named?.data?.title ?? null);
      setSkew(clockSkew(response));
      setAttempt(data);
      setAnswers(answersOf(data.answers));
    })().catch(() => setProblem(problemOf(null)));
  }, [attemptId]);

  const { secondsLeft, announcement } = useCountdown(attempt?.deadlineAt ?? null, skew);
  const timeUp = secondsLeft != null && secondsLeft <= 0;
  const open = attempt?.status === "in-progress" && !timeUp;

  // Time per item: from when an item takes the focus until another one does (or the page saves).
  const focused = useRef<{ itemId: string; since: number } | null>(null);
  const onFocusIn = (e: FocusEvent) => {
    const itemId = (e.target as HTMLElement | null)?.closest<HTMLElement>("[data-item-id]")?.dataset.itemId;
    if (!itemId || focused.current?.itemId === itemId) return;
    if (focused.current) autosave.addSeconds(focused.current.itemId, (Date.now() - focused.current.since) / 1000);
    focused.current = { itemId, since: Date.now() };
  };

  const answer = (itemId: string, value: Answer, now = false) => {
    setAnswers((current) => ({ ...current, [itemId]: value }));
    autosave.change(itemId, value, now);
  };

  const confirmSubmit = async () => {
    dialog.current?.close();
    await autosave.flush();
    const done = await submit.run(() => api.POST("/v1/attempts/{attemptId}/submit", { params: { path: { attemptId }, header: { "Idempotency-Key": `submit-${attemptId}` } } }));
    if (done) route(`/submissions/${attemptId}`);
  };

  if (problem) {
    return (
      <Page title="Attempt">
        <Problem problem={problem} />
      </Page>
    );
  }
  if (!attempt) {
    return (
      <Page title="Attempt">
        <Loading what="Loading the attempt" />
      </Page>
    );
  }
  const items = attempt.items ?? [];
  return (
    <Page title={title ? `${title}: attempt ${attempt.number}` : `Attempt ${attempt.number}`}>
      <section aria-label="Time and saving" class="attempt-status">
        {attempt.deadlineAt ? (
          <p>
            Due by <strong>{formatDateTime(attempt.deadlineAt)}</strong>
            {secondsLeft != null && secondsLeft > 0 ? (
              <>
                {" · "}
                <span role="timer" aria-label="Time left">
                  {formatDuration(secondsLeft)} left
                </span>
              </>
            ) : null}
          </p>
        ) : (
          <p>No time limit.</p>
        )}
        {/* Polite, and only at 5 minutes, 1 minute and the end: not every second. */}
        <p class="visually-hidden" aria-live="polite">
          {announcement}
        </p>
        {/* Saving is shown, not spoken (a save every pause in typing would interrupt the reader); a failed save is
            an alert. */}
        {attempt.status !== "in-progress" ? null : autosave.state.kind === "failed" ? (
          <p role="alert" class="field-error">
            {saveText(autosave.state)}
          </p>
        ) : (
          <p class="muted">
            {saveText(autosave.state)}
          </p>
        )}
      </section>
      {attempt.status === "submitted" ? (
        <p role="status">
          This attempt was submitted {formatDateTime(attempt.submittedAt)}. <a href={`/submissions/${attempt.id}`}>See the submission</a>.
        </p>
      ) : timeUp ? (
        <div role="alert">
          <p>
            <strong>The time is up.</strong> What was saved is submitted by the server; answers can no longer change.
          </p>
          <p>
            <a href={`/submissions/${attempt.id}`}>See what was saved</a>
          </p>
        </div>
      ) : null}
      <form
        onFocusIn={onFocusIn}
        onSubmit={(e) => {
          e.preventDefault();
          dialog.current?.showModal();
        }}
      >
        {items.map((item, i) => (
          <ItemAnswer key={item.id} attemptId={attempt.id} item={item} number={i + 1} answer={answers[item.id]} disabled={!open} onAnswer={(value, now) => answer(item.id, value, now)} />
        ))}
        <Problem problem={submit.problem} />
        {attempt.status === "in-progress" ? (
          <button type="submit" aria-busy={submit.pending} disabled={submit.pending}>
            Submit
          </button>
        ) : null}
      </form>
      <dialog ref={dialog} aria-labelledby="submit-title">
        <article>
          <h2 id="submit-title">Submit your answers?</h2>
          <p>{timeUp ? "The server decides whether the attempt still takes a submission." : "After submitting you cannot change them."}</p>
          <footer>
            <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
              Keep working
            </button>{" "}
            <button type="button" onClick={() => void confirmSubmit()}>
              Yes, submit
            </button>
          </footer>
        </article>
      </dialog>
    </Page>
  );
}
