import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { TableScroll } from "../../components/TableScroll";
import { formatDateTime, formatPercent } from "../../lib/format";
import { useApi } from "../../lib/use-api";

const marks = { present: "Present", late: "Late", absent: "Absent", excused: "Excused", unmarked: "Not marked" } as const;

/**
 * Attendance in a course: a learner sees their own row, staff the learners × sessions matrix (a page of learners).
 * The API decides which; both come as the same matrix, shown as a table with a row per learner.
 */
export default function Attendance({ courseId }: { courseId: string }) {
  const { query } = useLocation();
  const cursor = query.cursor;
  const matrix = useApi(() => api.GET("/v1/courses/{courseId}/attendance", { params: { path: { courseId }, query: { cursor, limit: 50 } } }), [courseId, cursor]);
  // The route also answers CSV (format=csv); asked for JSON, the answer is the matrix.
  const data = matrix.data && typeof matrix.data === "object" ? matrix.data : null;
  return (
    <Page title="Attendance">
      <p>
        <a href={`/courses/${courseId}`}>Back to the course</a>
      </p>
      {matrix.loading && !data ? <Loading what="Loading attendance" /> : null}
      <Problem problem={matrix.problem} />
      {data ? (
        data.sessions.length === 0 ? (
          <p>No class sessions yet.</p>
        ) : (
          <TableScroll label="Attendance table (scrolls sideways)">
            <table>
              <caption>Attendance by class session</caption>
              <thead>
                <tr>
                  <th scope="col">Learner</th>
                  <th scope="col">Rate</th>
                  {data.sessions.map((s) => (
                    <th scope="col" key={s.id}>
                      {s.title}
                      <br />
                      <small>{formatDateTime(s.startsAt)}</small>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.items.map((row) => (
                  <tr key={row.userId}>
                    <th scope="row">{row.displayName}</th>
                    <td>{row.rate.ratePercent == null ? "—" : formatPercent(row.rate.ratePercent / 100)}</td>
                    {data.sessions.map((s) => (
                      <td key={s.id}>{marks[row.cells[s.id] ?? "unmarked"]}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path={`/courses/${courseId}/attendance`} query={query} nextCursor={data?.nextCursor} nextLabel="More learners" />
    </Page>
  );
}
