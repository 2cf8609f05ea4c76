import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { percentText } from "./answers";
import { assessmentKindLabel } from "../../lib/item-labels";
import { Pager } from "../../components/Pager";
import { TableScroll } from "../../components/TableScroll";

/** My released grades per course with the course grade; with `courseId` (/courses/:courseId/grades) one course. */
export default function Grades({ courseId }: { courseId?: string }) {
  const { query, path } = useLocation();
  const cursor = query.cursor;
  const grades = useApi(() => api.GET("/v1/me/grades", { params: { query: { courseId, cursor, limit: 20 } } }), [courseId, cursor]);
  const courses = grades.data?.items ?? [];
  const title = courseId ? (courses[0] ? `Grades: ${courses[0].courseTitle}` : "Course grades") : "Grades";
  return (
    <Page title={title}>
      <p>
        <a href="/submissions">All my attempts and submissions</a>
      </p>
      {grades.loading ? <Loading what="Loading your grades" /> : null}
      <Problem problem={grades.problem} />
      {grades.data && courses.length === 0 ? <p role="status">No released grades yet.</p> : null}
      {courses.map((course) => (
        <section key={course.courseId} aria-labelledby={`course-${course.courseId}`}>
          <h2 id={`course-${course.courseId}`}>{courseId ? "Course grade" : course.courseTitle}</h2>
          <p>
            Course grade: <strong>{percentText(course.courseGrade.percent, "Not enough graded yet")}</strong>
          </p>
          {course.courseGrade.categories.length ? (
            <ul>
              {course.courseGrade.categories.map((c) => (
                <li key={c.name}>
                  {c.name} ({c.weightPercent}% of the course): {percentText(c.percent, "nothing graded yet")}
                  {c.dropped.length ? ` · ${c.dropped.length} lowest dropped` : ""}
                </li>
              ))}
            </ul>
          ) : null}
          <TableScroll label={`Grades in ${course.courseTitle}`}>
            <table>
              <caption class="visually-hidden">Grades in {course.courseTitle}</caption>
              <thead>
                <tr>
                  <th scope="col">Assessment</th>
                  <th scope="col">Grade</th>
                  <th scope="col">Released</th>
                  <th scope="col">Explanation</th>
                </tr>
              </thead>
              <tbody>
                {course.grades.map((g) => (
                  <tr key={g.id}>
                    <th scope="row">
                      <a href={`/assessments/${g.assessment.id}`}>{g.assessment.title}</a>
                      <br />
                      <small class="muted">
                        {assessmentKindLabel(g.assessment.kind)} · {g.assessment.category} · attempt {g.attemptNumber}
                      </small>
                    </th>
                    <td>{g.excused ? "Excused" : percentText(g.percent)}</td>
                    <td>{formatDateTime(g.releasedAt)}</td>
                    <td>
                      {/* The name begins with the visible words (speech input users say what they see); a
                          visually hidden span would sit outside the scrolling box and widen the page at 360 px. */}
                      <a href={`/grades/${g.id}`} aria-label={`How it was worked out for ${g.assessment.title}`}>
                        How it was worked out
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        </section>
      ))}
      <Pager path={path} query={{ cursor }} nextCursor={grades.data?.nextCursor} nextLabel="More grades" />
    </Page>
  );
}
