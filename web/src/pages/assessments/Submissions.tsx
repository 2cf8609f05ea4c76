import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { percentText } from "./answers";
import { Pager } from "../../components/Pager";
import { TableScroll } from "../../components/TableScroll";

/** My attempts and submissions, newest first: resume the open ones, open the submitted ones. */
export default function Submissions() {
  const { query } = useLocation();
  const cursor = query.cursor;
  const list = useApi(() => api.GET("/v1/me/submissions", { params: { query: { cursor, limit: 20 } } }), [cursor]);
  const items = list.data?.items ?? [];
  return (
    <Page title="My submissions">
      {list.loading ? <Loading what="Loading your submissions" /> : null}
      <Problem problem={list.problem} />
      {list.data && items.length === 0 ? <p role="status">No attempts yet.</p> : null}
      {items.length ? (
        <TableScroll label="Your submissions">
          <table>
            <caption class="visually-hidden">My attempts and submissions</caption>
            <thead>
              <tr>
                <th scope="col">Assessment</th>
                <th scope="col">Status</th>
                <th scope="col">Grade</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <th scope="row">
                    <a href={`/assessments/${s.assessment.id}`}>{s.assessment.title}</a> <small class="muted">attempt {s.number}</small>
                  </th>
                  <td>
                    {s.status === "in-progress" ? (
                      <a href={`/attempts/${s.id}`}>Open: resume</a>
                    ) : (
                      <a href={`/submissions/${s.id}`}>Submitted {formatDateTime(s.submittedAt)}</a>
                    )}
                  </td>
                  <td>{s.grade ? <a href={`/grades/${s.grade.id}`}>{percentText(s.grade.percent)}</a> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
      <Pager path="/submissions" query={{ cursor }} nextCursor={list.data?.nextCursor} nextLabel="More" />
    </Page>
  );
}
