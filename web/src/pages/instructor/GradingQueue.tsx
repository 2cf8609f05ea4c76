import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { Pager } from "../../components/Pager";
import { TableScroll } from "../../components/TableScroll";
import { useApi } from "../../lib/use-api";
import { useCourseTitle } from "../../lib/use-course-title";

/** Submissions with essay or file items no grader has scored yet, oldest first, a page at a time. */
export default function GradingQueue({ courseId }: { courseId: string }) {
  const { query } = useLocation();
  const cursor = query.cursor;
  const course = useCourseTitle(courseId);
  const queue = useApi(() => api.GET("/v1/courses/{courseId}/grading-queue", { params: { path: { courseId }, query: { cursor, limit: 50 } } }), [courseId, cursor]);
  return (
    <Page title={course.title ? `Grading: ${course.title}` : "Grading queue"}>
      <p>
        <a href={`/courses/${courseId}/manage`}>Back to the course</a>
      </p>
      {queue.loading && !queue.data ? <Loading what="Loading the queue" /> : null}
      <Problem problem={queue.problem} />
      {queue.data ? (
        queue.data.items.length === 0 ? (
          <p role="status">Nothing is waiting to be graded.</p>
        ) : (
          <TableScroll label="Submissions waiting for a grader">
            <table>
              <caption>Submissions waiting for a grader</caption>
              <thead>
                <tr>
                  <th scope="col">Learner</th>
                  <th scope="col">Assessment</th>
                  <th scope="col">Submitted</th>
                  <th scope="col">Items to grade</th>
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {queue.data.items.map((s) => (
                  <tr key={s.submissionId}>
                    <th scope="row">{s.displayName}</th>
                    <td>{s.assessmentTitle}</td>
                    <td>{formatDateTime(s.submittedAt)}</td>
                    <td>{s.waitingItems.join(", ")}</td>
                    <td>
                      <a href={`/submissions/${s.submissionId}/grade`}>
                        Grade<span class="visually-hidden"> {s.displayName}’s {s.assessmentTitle}</span>
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path={`/courses/${courseId}/grading`} query={{ cursor }} nextCursor={queue.data?.nextCursor} />
    </Page>
  );
}
