import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Field, fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { TableScroll } from "../../components/TableScroll";
import { useFocusAfterAction } from "../../lib/focus";
import { useAction, useApi } from "../../lib/use-api";
import { CourseSettingsForm, settingsOf } from "./course-settings-form";

const statusLabel = { draft: "Draft", published: "Published", archived: "Archived" } as const;

/** One course's settings, status, staff and assessments, with links to its content, grading and numbers. */
export default function ManageCourse({ courseId }: { courseId: string }) {
  const path = { courseId };
  // The ETag read with the course goes back as If-Match, so a save over someone else's change answers 412 (built
  // from the version, as the route builds it, when a cross-origin answer hides the header).
  const course = useApi(async () => {
    const answer = await api.GET("/v1/courses/{courseId}", { params: { path } });
    return { ...answer, data: answer.data && { ...answer.data, etag: answer.response.headers.get("etag") ?? undefined } };
  }, [courseId]);
  const staff = useApi(() => api.GET("/v1/courses/{courseId}/staff", { params: { path } }), [courseId]);
  const assessments = useApi(() => api.GET("/v1/courses/{courseId}/assessments", { params: { path } }), [courseId]);
  const save = useAction();
  const status = useAction();
  const addStaff = useAction();
  const [said, setSaid] = useState("");
  const [staffUser, setStaffUser] = useState("");
  const [staffRole, setStaffRole] = useState<"instructor" | "grader">("grader");
  // Publish, Archive and Save replace the control that was pressed: focus goes to the status that reports it.
  const reported = useFocusAfterAction<HTMLParagraphElement>();

  if (course.loading && !course.data) return <Loading what="Loading the course" />;
  if (!course.data)
    return (
      <Page title="Manage a course">
        <Problem problem={course.problem} />
      </Page>
    );
  const c = course.data;
  const changedElsewhere = save.problem?.status === 412;

  const changeStatus = async (to: "publish" | "archive") => {
    const done = await status.run(() => (to === "publish" ? api.POST("/v1/courses/{courseId}/publish", { params: { path } }) : api.POST("/v1/courses/{courseId}/archive", { params: { path } })));
    if (done) {
      setSaid(to === "publish" ? "The course is published." : "The course is archived.");
      reported.focusAfter();
      course.reload();
    }
  };

  return (
    <Page title={`Manage: ${c.title}`}>
      <p role="status" tabIndex={-1} ref={reported.ref}>
        {said}
      </p>
      {/* Plain links, not Pico's nav list: its negative margins overflow a 360 px screen. */}
      <nav aria-label="Course tools">
        <p>
          <a href={`/courses/${courseId}/manage/content`}>Modules and lessons</a> · <a href={`/courses/${courseId}/grading`}>Grading queue</a> ·{" "}
          <a href={`/courses/${courseId}/gradebook`}>Gradebook</a> · <a href={`/courses/${courseId}/analytics`}>Analytics</a>
        </p>
      </nav>

      <section aria-labelledby="status-heading">
        <h2 id="status-heading">Status</h2>
        <p>
          {statusLabel[c.status]}
          {c.publishedAt ? ` since ${formatDateTime(c.publishedAt)}` : ""} · {c.seatsTaken} enrolled
        </p>
        <Problem problem={status.problem} />
        {c.status === "draft" ? (
          <button type="button" aria-busy={status.pending} disabled={status.pending} onClick={() => changeStatus("publish")}>
            Publish
          </button>
        ) : null}
        {c.status === "published" ? (
          <ConfirmButton
            label="Archive"
            question="Archive this course? Learners keep their records; nobody can enroll any more."
            confirmLabel="Yes, archive it"
            pending={status.pending}
            onConfirm={() => changeStatus("archive")}
            focusAfter={reported.ref}
          />
        ) : null}
      </section>

      <section aria-labelledby="assessments-heading">
        <h2 id="assessments-heading">Assessments</h2>
        <Problem problem={assessments.problem} />
        {assessments.data ? (
          assessments.data.items.length === 0 ? (
            <p>No assessment yet.</p>
          ) : (
            <ul>
              {assessments.data.items.map((a) => (
                <li key={a.id}>
                  {a.title} <span class="muted">({a.kind === "quiz" ? "quiz" : "assignment"}, {a.items.length} items{a.dueAt ? `, due ${formatDateTime(a.dueAt)}` : ""})</span>
                </li>
              ))}
            </ul>
          )
        ) : null}
        <p>
          <a href={`/courses/${courseId}/manage/assessments/new`}>New assessment</a>
        </p>
      </section>

      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        {changedElsewhere ? (
          <div role="alert">
            <p>Someone else changed this course since you opened it, so your changes were not saved.</p>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                save.clear();
                course.reload();
              }}
            >
              Reload the course
            </button>
          </div>
        ) : (
          <Problem problem={save.problem} />
        )}
        <CourseSettingsForm
          key={c.version}
          initial={settingsOf(c)}
          submitLabel="Save settings"
          pending={save.pending}
          problem={changedElsewhere ? null : save.problem}
          onSubmit={async (settings) => {
            const saved = await save.run(() => api.PATCH("/v1/courses/{courseId}", { params: { path, header: { "If-Match": c.etag ?? `"v${c.version}.s${c.seatsTaken}"` } }, body: settings }));
            if (saved) {
              setSaid("The settings are saved.");
              reported.focusAfter();
              course.reload();
            }
          }}
        />
      </section>

      <section aria-labelledby="staff-heading">
        <h2 id="staff-heading">Staff</h2>
        <Problem problem={staff.problem} />
        {staff.data ? (
          <TableScroll label="Course staff">
            <table>
              <caption class="visually-hidden">Course staff</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                </tr>
              </thead>
              <tbody>
                {staff.data.items.map((s) => (
                  <tr key={s.userId}>
                    <th scope="row">{s.displayName}</th>
                    <td>{s.email}</td>
                    <td>{s.role === "instructor" ? "Instructor" : "Grader"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        ) : null}
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const added = await addStaff.run(() => api.POST("/v1/courses/{courseId}/staff", { params: { path }, body: { userId: staffUser.trim(), role: staffRole } }));
            if (added) {
              setStaffUser("");
              setSaid("The staff member is added.");
              staff.reload();
            }
          }}
        >
          <h3>Add staff</h3>
          <Problem problem={addStaff.problem} />
          <Field label="User id" name="userId" hint="The person's account id" required value={staffUser} error={fieldError(addStaff.problem, "body.userId")} onInput={(e) => setStaffUser(e.currentTarget.value)} />
          <label for="staff-role">
            Role
            <select id="staff-role" value={staffRole} onChange={(e) => setStaffRole(e.currentTarget.value as "instructor" | "grader")}>
              <option value="grader">Grader</option>
              <option value="instructor">Instructor</option>
            </select>
          </label>
          <button type="submit" aria-busy={addStaff.pending} disabled={addStaff.pending}>
            Add to staff
          </button>
        </form>
      </section>
    </Page>
  );
}
