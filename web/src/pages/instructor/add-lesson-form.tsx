import { useId, useState } from "preact/hooks";
import { api, problemOf, type Problem as ProblemBody, type Schemas } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Problem } from "../../components/Problem";
import { putToBlob } from "../../lib/upload";
import { useAction } from "../../lib/use-api";

type Kind = Schemas["Lesson"]["kind"];
const kinds: { value: Kind; label: string }[] = [
  { value: "text", label: "Text" },
  { value: "file", label: "File" },
  { value: "link", label: "Link" },
  { value: "assessment", label: "Assessment" },
];

/**
 * Adds a lesson of any kind to a module. A file lesson is created first, then its file goes straight to Blob with
 * the URL the API grants (never through the function app), then the upload is confirmed so learners see it.
 */
export function AddLessonForm({ module: m, onAdded }: { module: Schemas["Module"]; onAdded: (lesson: Schemas["Lesson"]) => void }) {
  const id = useId();
  const action = useAction();
  const [title, setTitle] = useState("");
  const [kind, setKind] = useState<Kind>("text");
  const [body, setBody] = useState("");
  const [url, setUrl] = useState("");
  const [assessmentId, setAssessmentId] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [uploadProblem, setUploadProblem] = useState<ProblemBody | null>(null);
  const [assessments, setAssessments] = useState<Schemas["Assessment"][] | null>(null);

  const chooseKind = async (next: Kind) => {
    setKind(next);
    if (next === "assessment" && !assessments) {
      const { data } = await api.GET("/v1/courses/{courseId}/assessments", { params: { path: { courseId: m.courseId } } });
      setAssessments(data?.items ?? []);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setUploadProblem(null);
    const lesson = await action.run(() =>
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
    );
    if (!lesson) return;
    if (kind === "file" && file) {
      const uploaded = await upload(lesson.id, file);
      if (!uploaded) return;
    }
    setTitle("");
    setBody("");
    setUrl("");
    setFile(null);
    onAdded(lesson);
  };

  const upload = async (lessonId: string, chosen: File): Promise<boolean> => {
    const grant = await action.run(() =>
      api.POST("/v1/lessons/{lessonId}/files", { params: { path: { lessonId } }, body: { fileName: chosen.name, contentType: chosen.type || "application/octet-stream", sizeBytes: chosen.size } }),
    );
    if (!grant) return false;
    try {
      setProgress(0);
      await putToBlob(grant, chosen, setProgress);
    } catch (err) {
      setUploadProblem({ ...problemOf(null), title: err instanceof Error ? err.message : "The upload failed" });
      return false;
    } finally {
      setProgress(null);
    }
    return Boolean(await action.run(() => api.POST("/v1/lessons/{lessonId}/files/confirm", { params: { path: { lessonId } } })));
  };

  return (
    <form onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        Add a lesson<span class="visually-hidden"> to {m.title}</span>
      </h3>
      <Problem problem={action.problem ?? uploadProblem} />
      <Field label="Lesson title" name="lessonTitle" required value={title} error={fieldError(action.problem, "body.title")} onInput={(e) => setTitle(e.currentTarget.value)} />
      <label for={`${id}-kind`}>
        Kind
        <select id={`${id}-kind`} value={kind} onChange={(e) => void chooseKind(e.currentTarget.value as Kind)}>
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
      {kind === "assessment" ? (
        <label for={`${id}-assessment`}>
          Assessment
          <select id={`${id}-assessment`} required value={assessmentId} onChange={(e) => setAssessmentId(e.currentTarget.value)}>
            <option value="">Choose…</option>
            {(assessments ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.title}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {kind === "file" ? (
        <label for={`${id}-file`}>
          File
          <input id={`${id}-file`} type="file" required accept=".pdf,.txt,.md,.zip,.docx,.pptx,.xlsx,image/*,video/*,audio/*" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
      ) : null}
      {progress !== null ? (
        <progress value={progress} max={1} aria-label="Upload progress">
          {Math.round(progress * 100)}%
        </progress>
      ) : null}
      <button type="submit" aria-busy={action.pending} disabled={action.pending}>
        Add lesson<span class="visually-hidden"> to {m.title}</span>
      </button>
    </form>
  );
}
