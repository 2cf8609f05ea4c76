import { useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction, useApi } from "../../lib/use-api";
import { useCourseTitle } from "../../lib/use-course-title";
import { AddLessonForm } from "./add-lesson-form";

type Module = Schemas["Module"];
type Lesson = Schemas["Lesson"];

/** `ids` with the one at `index` swapped with its neighbour `by` places away (the keyboard's move up/down). */
function moved(ids: string[], index: number, by: -1 | 1): string[] {
  const next = [...ids];
  const other = index + by;
  [next[index], next[other]] = [next[other]!, next[index]!];
  return next;
}

/**
 * The course's modules and lessons: add, rename, reorder and hide. Reordering is by "Move up"/"Move down" buttons
 * so it works with the keyboard alone (no drag-only control).
 */
export default function CourseContent({ courseId }: { courseId: string }) {
  const path = { courseId };
  const course = useCourseTitle(courseId);
  const modules = useApi(() => api.GET("/v1/courses/{courseId}/modules", { params: { path } }), [courseId]);
  const action = useAction();
  const [said, setSaid] = useState("");
  const [title, setTitle] = useState("");

  const done = (message: string) => {
    setSaid(message);
    modules.reload();
  };

  const addModule = async (e: Event) => {
    e.preventDefault();
    const created = await action.run(() => api.POST("/v1/courses/{courseId}/modules", { params: { path }, body: { title } }));
    if (created) {
      setTitle("");
      done(`Module “${created.title}” added.`);
    }
  };

  const items = modules.data?.items ?? [];
  return (
    <Page title={course.title ? `Content: ${course.title}` : "Course content"}>
      <p>
        <a href={`/courses/${courseId}/manage`}>Back to the course</a>
      </p>
      <p role="status">{said}</p>
      <Problem problem={action.problem ?? modules.problem} />
      {modules.loading && !modules.data ? <Loading what="Loading the modules" /> : null}
      {items.map((m, i) => (
        <ModuleSection
          key={m.id}
          module={m}
          first={i === 0}
          last={i === items.length - 1}
          onChanged={done}
          onMove={async (by) => {
            const ids = moved(
              items.map((x) => x.id),
              i,
              by,
            );
            if (await action.run(() => api.POST("/v1/courses/{courseId}/modules/reorder", { params: { path }, body: { moduleIds: ids } }))) done(`Module “${m.title}” moved ${by < 0 ? "up" : "down"}.`);
          }}
        />
      ))}
      <form onSubmit={addModule}>
        <h2>Add a module</h2>
        <Field label="Module title" name="moduleTitle" required value={title} error={fieldError(action.problem, "body.title")} onInput={(e) => setTitle(e.currentTarget.value)} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending}>
          Add module
        </button>
      </form>
    </Page>
  );
}

function ModuleSection({ module: m, first, last, onChanged, onMove }: { module: Module; first: boolean; last: boolean; onChanged: (message: string) => void; onMove: (by: -1 | 1) => void }) {
  const action = useAction();
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(m.title);
  const lessons = m.lessons ?? [];
  const headingId = `module-${m.id}`;
  const path = { courseId: m.courseId, moduleId: m.id };

  const moveLesson = async (index: number, by: -1 | 1) => {
    const ids = moved(
      lessons.map((l) => l.id),
      index,
      by,
    );
    if (await action.run(() => api.POST("/v1/courses/{courseId}/modules/{moduleId}/lessons/reorder", { params: { path }, body: { lessonIds: ids } })))
      onChanged(`Lesson “${lessons[index]!.title}” moved ${by < 0 ? "up" : "down"}.`);
  };
  const hideLesson = async (lesson: Lesson) => {
    if (await action.run(() => api.PATCH("/v1/lessons/{lessonId}", { params: { path: { lessonId: lesson.id } }, body: { hidden: !lesson.hidden } })))
      onChanged(`Lesson “${lesson.title}” ${lesson.hidden ? "shown" : "hidden"}.`);
  };

  return (
    <section aria-labelledby={headingId}>
      <article>
        <header>
          <h2 id={headingId}>
            {m.title}
            {m.hidden ? <span class="muted"> (hidden from learners)</span> : null}
          </h2>
          {/* A plain row, not role="group": Pico lays a group out in one line, too wide for 360 px. */}
          <div>
            <button type="button" class="secondary outline" disabled={first} onClick={() => onMove(-1)}>
              Move up<span class="visually-hidden"> {m.title}</span>
            </button>
            <button type="button" class="secondary outline" disabled={last} onClick={() => onMove(1)}>
              Move down<span class="visually-hidden"> {m.title}</span>
            </button>
            <button type="button" class="secondary outline" onClick={() => setRenaming(!renaming)} aria-expanded={renaming}>
              Rename<span class="visually-hidden"> {m.title}</span>
            </button>
            <button
              type="button"
              class="secondary outline"
              onClick={async () => {
                if (await action.run(() => api.PATCH("/v1/courses/{courseId}/modules/{moduleId}", { params: { path }, body: { hidden: !m.hidden } })))
                  onChanged(`Module “${m.title}” ${m.hidden ? "shown" : "hidden"}.`);
              }}
            >
              {m.hidden ? "Show" : "Hide"}
              <span class="visually-hidden"> {m.title}</span>
            </button>
          </div>
          {renaming ? (
            <form
              onSubmit={async (e) => {
                e.preventDefault();
                if (await action.run(() => api.PATCH("/v1/courses/{courseId}/modules/{moduleId}", { params: { path }, body: { title } }))) {
                  setRenaming(false);
                  onChanged(`Module renamed to “${title}”.`);
                }
              }}
            >
              <Field label="New title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
              <button type="submit">Save title</button>
            </form>
          ) : null}
        </header>
        <Problem problem={action.problem} />
        {lessons.length === 0 ? (
          <p>No lesson yet.</p>
        ) : (
          <ol aria-label={`Lessons of ${m.title}`}>
            {lessons.map((l, i) => (
              <li key={l.id}>
                <strong>{l.title}</strong> <span class="muted">({lessonKind(l)}{l.hidden ? ", hidden" : ""})</span>
                <div>
                  <button type="button" class="secondary outline" disabled={i === 0} onClick={() => moveLesson(i, -1)}>
                    Move up<span class="visually-hidden"> {l.title}</span>
                  </button>
                  <button type="button" class="secondary outline" disabled={i === lessons.length - 1} onClick={() => moveLesson(i, 1)}>
                    Move down<span class="visually-hidden"> {l.title}</span>
                  </button>
                  <button type="button" class="secondary outline" onClick={() => hideLesson(l)}>
                    {l.hidden ? "Show" : "Hide"}
                    <span class="visually-hidden"> {l.title}</span>
                  </button>
                </div>
              </li>
            ))}
          </ol>
        )}
        <AddLessonForm module={m} onAdded={(lesson) => onChanged(`Lesson “${lesson.title}” added.`)} />
      </article>
    </section>
  );
}

function lessonKind(l: Lesson): string {
  if (l.kind === "file") return l.file?.status === "ready" ? `file: ${l.file.name ?? "uploaded"}` : "file: awaiting upload";
  return { text: "text", link: "link", assessment: "assessment", file: "file" }[l.kind];
}
