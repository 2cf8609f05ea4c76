import { useRef, useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { lessonState } from "./Course";

type Lesson = Schemas["LessonDetail"];

/** Types a browser shows inline without running the file's own code (no SVG or HTML: they can carry script). */
const inlineImage = /^image\/(png|jpeg|gif|webp|avif)$/;
const inlineVideo = /^video\/(mp4|webm|ogg)$/;

/** One lesson: its content (text, file, link), "Mark complete", and the previous and next lessons of the course. */
export default function LessonPage({ lessonId }: { lessonId: string }) {
  const lesson = useApi(() => api.GET("/v1/lessons/{lessonId}", { params: { path: { lessonId } } }), [lessonId]);
  if (lesson.loading && !lesson.data) return <Loading what="Loading the lesson" />;
  if (!lesson.data) {
    return (
      <Page title="Lesson">
        <Problem problem={lesson.problem} />
      </Page>
    );
  }
  return <LessonView key={lesson.data.id} lesson={lesson.data} />;
}

function LessonView({ lesson: l }: { lesson: Lesson }) {
  const action = useAction();
  const [completed, setCompleted] = useState(Boolean(l.completed));
  const [message, setMessage] = useState<string | null>(null);
  // The button goes once the lesson is complete: the keyboard moves to the status that says so, not to <body>.
  const status = useRef<HTMLDivElement>(null);
  const outline = useApi(() => api.GET("/v1/courses/{courseId}/modules", { params: { path: { courseId: l.courseId } } }), [l.courseId, completed]);
  const all = outline.data?.items.flatMap((m) => m.lessons ?? []) ?? [];
  const at = all.findIndex((x) => x.id === l.id);
  const previous = at > 0 ? all[at - 1] : undefined;
  const next = at >= 0 ? all[at + 1] : undefined;

  const complete = async () => {
    const result = await action.run(() => api.POST("/v1/lessons/{lessonId}/complete", { params: { path: { lessonId: l.id } } }));
    if (result) {
      setCompleted(true);
      setMessage(`Marked complete at ${formatDateTime(result.completedAt)}.`);
      status.current?.focus();
    }
  };

  return (
    <Page title={l.title}>
      <p>
        <a href={`/courses/${l.courseId}`}>Back to the course</a>
      </p>
      {l.locked ? <p>This lesson is {lessonState(l)}.</p> : <LessonContent lesson={l} />}
      {l.completed !== null && !l.locked ? (
        <section aria-label="Completion">
          {completed ? <p>You completed this lesson.</p> : null}
          {!completed && l.kind !== "assessment" ? (
            <button type="button" onClick={complete} aria-busy={action.pending} disabled={action.pending}>
              Mark complete
            </button>
          ) : null}
          <div role="status" tabIndex={-1} ref={status}>
            {message ? <p>{message}</p> : null}
          </div>
          <Problem problem={action.problem} />
        </section>
      ) : null}
      <nav aria-label="Lessons">
        <ul>
          {previous ? (
            <li>
              <a href={`/lessons/${previous.id}`} rel="prev">
                Previous: {previous.title}
              </a>
            </li>
          ) : null}
          {next ? (
            <li>
              <a href={`/lessons/${next.id}`} rel="next">
                Next: {next.title}
              </a>
              {next.locked ? <span class="muted"> ({lessonState(next)})</span> : null}
            </li>
          ) : null}
        </ul>
      </nav>
    </Page>
  );
}

function LessonContent({ lesson: l }: { lesson: Lesson }) {
  switch (l.kind) {
    case "text":
      // bodyHtml is rendered by the API from the Markdown through its sanitizer (domain/shared/markdown.ts).
      return l.bodyHtml ? <div class="lesson-text" dangerouslySetInnerHTML={{ __html: l.bodyHtml }} /> : <p>This lesson has no text.</p>;
    case "link":
      return l.url ? (
        <p>
          <a href={l.url} rel="noopener noreferrer" target="_blank">
            Open the lesson's link (opens in a new tab)
          </a>
        </p>
      ) : null;
    case "assessment":
      return l.assessmentId ? (
        <p>
          <a href={`/assessments/${l.assessmentId}`}>Open the assessment</a>
        </p>
      ) : null;
    case "file":
      return <LessonFile lesson={l} />;
  }
}

function LessonFile({ lesson: l }: { lesson: Lesson }) {
  const f = l.file;
  if (!f?.downloadUrl) return <p>The file is not available yet.</p>;
  const type = f.contentType ?? "";
  const name = f.name ?? "the file";
  return (
    <>
      {inlineImage.test(type) ? <img src={f.downloadUrl} alt={`${name} (the lesson's image)`} class="lesson-media" /> : null}
      {inlineVideo.test(type) ? <video src={f.downloadUrl} controls class="lesson-media" aria-label={name} /> : null}
      {/* The inline URL: the download one carries an attachment disposition, which a frame would save, not show. */}
      {f.viewUrl ? <iframe src={f.viewUrl} title={name} class="lesson-media" /> : null}
      <p>
        <a href={f.downloadUrl} download={f.name ?? undefined}>
          Download {name}
        </a>
        {f.sizeBytes != null ? <span class="muted"> ({Math.max(1, Math.round(f.sizeBytes / 1024))} KB)</span> : null}
        {f.downloadUrlExpiresAt ? <span class="muted"> — the link works until {formatDateTime(f.downloadUrlExpiresAt)}; reload the page for a new one.</span> : null}
      </p>
    </>
  );
}
