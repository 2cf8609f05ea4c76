import { api, problemOf } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useApi } from "../../lib/use-api";

/** The courses I teach or grade, read fresh (the session's copy of my roles predates a course I just created). */
async function myCourses() {
  const me = await api.GET("/v1/me");
  if (!me.data) return { error: me.error, response: me.response };
  const roles = me.data.courseRoles;
  const courses = await Promise.all(roles.map((r) => api.GET("/v1/courses/{courseId}", { params: { path: { courseId: r.courseId } } })));
  // One course that fails to load (removed, or refused) is listed with its problem; the others still show.
  return {
    data: courses.map((c, i) => ({ courseId: roles[i]!.courseId, role: roles[i]!.role, course: c.data ?? null, problem: c.data ? null : problemOf(c.error, c.response) })),
    response: me.response,
  };
}

export default function Teach() {
  const list = useApi(myCourses, []);
  return (
    <Page title="Teaching" actions={<a href="/teach/new">New course</a>}>
      {list.loading ? <Loading what="Loading your courses" /> : null}
      <Problem problem={list.problem} />
      {list.data ? (
        list.data.length === 0 ? (
          <p>You do not teach or grade any course yet.</p>
        ) : (
          <ul class="card-list" aria-label="Your courses">
            {list.data.map(({ courseId, course, role, problem }) =>
              course ? (
                <li key={course.id}>
                  <article>
                    <h2>
                      <a href={`/courses/${course.id}/manage`}>{course.title}</a>
                    </h2>
                    <p class="muted">
                      {role === "instructor" ? "Instructor" : "Grader"} · {course.status === "draft" ? "Draft" : course.status === "published" ? "Published" : "Archived"}
                      {course.code ? ` · ${course.code}` : ""}
                    </p>
                    <p>
                      <a href={`/courses/${course.id}/grading`}>Grading queue</a> · <a href={`/courses/${course.id}/gradebook`}>Gradebook</a> ·{" "}
                      <a href={`/courses/${course.id}/analytics`}>Analytics</a>
                    </p>
                  </article>
                </li>
              ) : (
                <li key={courseId}>
                  <article>
                    <p>A course you {role === "instructor" ? "teach" : "grade"} could not be loaded.</p>
                    <Problem problem={problem} />
                  </article>
                </li>
              ),
            )}
          </ul>
        )
      ) : null}
    </Page>
  );
}
