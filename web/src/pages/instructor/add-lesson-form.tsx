import { useId, useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Problem } from "../../components/Problem";
import { useAction, useApi } from "../../lib/use-api";
import { useBlobUpload } from "../../lib/use-blob-upload";

type Kind = Schemas["Lesson"]["kind"];
const kinds: { value: Kind; label: string }[] = [
  { value: "text", label: "Text" },
  { value: "file", label: "File" },
  { value: "link", label: "Link" },
  { value: "assessment", label: "Assessment" },
];

/**
 * Adds a lesson of any kind to a module. A file lesson is created first (the upload grant names the lesson), then its
 * file goes straight to Blob with the URL the API grants (never through the function app), then the upload is
 * confirmed so learners see it. When the upload fails the created lesson is kept: the next press retries the upload
 * for it instead of creating a second lesson.
 */
export function AddLessonForm({ module: m, onAdded }: { module: Schemas["Module"]; onAdded: (lesson: Schemas["Lesson"]) => void }) {
  const id = useId();
  const action = useAction();
  const blob = useBlobUpload();
  const [title, setTitle] = useState("");
  const [kind, setKind] = useState<Kind>("text");
  const [body, setBody] = useState("");
  const [url, setUrl] = useState("");
  const [assessmentId, setAssessmentId] = useState("");
  const [file, setFile] = useState<File | null>(null);
  // A new key empties the file input after a lesson is added (an uncontrolled file input keeps its file).
  const [fileInputKey, setFileInputKey] = useState(0);
  // The file lesson created whose upload has not succeeded yet.
  const [unfinished, setUnfinished] = useState<Schemas["Lesson"] | null>(null);
  const finish = (lesson: Schemas["Lesson"]) => {
    setTitle("");
    setBody("");
    setUrl("");
    setFile(null);
    setFileInputKey((n) => n + 1);
    setUnfinished(null);
    onAdded(lesson);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    blob.clear();
    if (kind === "file" && !file) return; // the input's `required` says so; this guards a stale input
    const lesson =
      unfinished ??
      (await action.run(() =>
        api.POST("/v1/courses/{courseId}/modules/{moduleId}/lessons", {
          params: { path: { courseId: m.courseId, moduleId: m.id } },
          body: {
            title,
            kind,
            ...(kind === "text" ? { body } : {}),
            ...(kind === "link" ? { url } : {}),
            ...(kind === "assessment" ? { assessmentId: assessmentId || null } : {}),
          },
        }),
      ));
    if (!lesson) return;
    if (lesson.kind === "file" && file) {
      const lessonId = lesson.id;
      const uploaded = await blob.upload(
        file,
        () => api.POST("/v1/lessons/{lessonId}/files", { params: { path: { lessonId } }, body: { fileName: file.name, contentType: file.type || "application/octet-stream", sizeBytes: file.size } }),
        () => api.POST("/v1/lessons/{lessonId}/files/confirm", { params: { path: { lessonId } } }),
      );
      if (!uploaded) {
        setUnfinished(lesson);
        return;
      }
    }
    finish(lesson);
  };

  return (
    <form onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        Add a lesson<span class="visually-hidden"> to {m.title}</span>
      </h3>
      <Problem problem={action.problem ?? blob.problem} />
      {unfinished ? (
        <p role="status">
          The lesson “{unfinished.title}” was created, but its file was not uploaded. Press “Retry the upload” to send the file again (no second lesson is
          created).
        </p>
      ) : null}
      <Field
        label="Lesson title"
        name="lessonTitle"
        required
        readOnly={Boolean(unfinished)}
        value={unfinished?.title ?? title}
        error={fieldError(action.problem, "body.title")}
        onInput={(e) => setTitle(e.currentTarget.value)}
      />
      <label for={`${id}-kind`}>
        Kind
        <select id={`${id}-kind`} value={kind} disabled={Boolean(unfinished)} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
          {kinds.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
      </label>
      {kind === "text" ? (
        <label for={`${id}-body`}>
          Text (Markdown)
          <textarea id={`${id}-body`} rows={5} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </label>
      ) : null}
      {kind === "link" ? <Field label="Address" type="url" required value={url} error={fieldError(action.problem, "body.url")} onInput={(e) => setUrl(e.currentTarget.value)} /> : null}
      {kind === "assessment" ? <AssessmentChoice id={`${id}-assessment`} courseId={m.courseId} value={assessmentId} onChange={setAssessmentId} /> : null}
      {kind === "file" ? (
        <label for={`${id}-file`}>
          File
          <input
            key={fileInputKey}
            id={`${id}-file`}
            type="file"
            required
            accept=".pdf,.txt,.md,.zip,.docx,.pptx,.xlsx,image/*,video/*,audio/*"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
      ) : null}
      {blob.progress !== null ? (
        <progress value={blob.progress} max={1} aria-label="Upload progress">
          {Math.round(blob.progress * 100)}%
        </progress>
      ) : null}
      <button type="submit" aria-busy={action.pending || blob.pending} disabled={action.pending || blob.pending}>
        {unfinished ? "Retry the upload" : "Add lesson"}
        <span class="visually-hidden"> to {m.title}</span>
      </button>
    </form>
  );
}

/** The course's assessments, loaded each time the choice appears (so one created meanwhile is listed); a failure shows its problem. */
function AssessmentChoice({ id, courseId, value, onChange }: { id: string; courseId: string; value: string; onChange: (assessmentId: string) => void }) {
  const assessments = useApi(() => api.GET("/v1/courses/{courseId}/assessments", { params: { path: { courseId } } }), [courseId]);
  return (
    <>
      <Problem problem={assessments.problem} />
      <label for={id}>
        Assessment
        <select id={id} required value={value} aria-busy={assessments.loading} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">Choose…</option>
          {(assessments.data?.items ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.title}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
