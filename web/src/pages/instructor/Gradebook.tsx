import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { Pager } from "../../components/Pager";
import { TableScroll } from "../../components/TableScroll";
import { formatPercentValue } from "../../lib/format";
import { useFocusAfterAction } from "../../lib/focus";
import { useAction, useApi } from "../../lib/use-api";


/** Every learner × assessment with the course grade; the CSV export is fetched with the session's token. */
export default function Gradebook({ courseId }: { courseId: string }) {
  const { query } = useLocation();
  const cursor = query.cursor;
  const path = { courseId };
  const course = useApi(() => api.GET("/v1/courses/{courseId}", { params: { path } }), [courseId]);
  const book = useApi(async () => {
    const answer = await api.GET("/v1/courses/{courseId}/gradebook", { params: { path, query: { cursor, limit: 100 } } });
    // The route also answers CSV (format=csv); without it the answer is the JSON page.
    return { ...answer, data: typeof answer.data === "string" ? undefined : answer.data };
  }, [courseId, cursor]);
  const exporting = useAction();
  // The download link replaces the export button: focus moves to it, not to <body>.
  const ready = useFocusAfterAction<HTMLAnchorElement>();
  const [csvUrl, setCsvUrl] = useState<string | null>(null);
  // An object URL holds the file in memory until it is revoked.
  useEffect(() => () => void (csvUrl && URL.revokeObjectURL(csvUrl)), [csvUrl]);

  const prepareCsv = async () => {
    // The CSV holds every learner (the route reads them all; limit only sets how many it reads at a time).
    const blob = await exporting.run(() => api.GET("/v1/courses/{courseId}/gradebook", { params: { path, query: { format: "csv", limit: 100 } }, parseAs: "blob" }));
    if (blob) {
      setCsvUrl(URL.createObjectURL(blob));
      ready.focusAfter();
    }
  };

  const fileName = `gradebook-${course.data?.code ?? courseId}.csv`;
  return (
    <Page title={course.data ? `Gradebook: ${course.data.title}` : "Gradebook"}>
      <p>
        <a href={`/courses/${courseId}/manage`}>Back to the course</a>
      </p>
      <section aria-label="Export">
        <Problem problem={exporting.problem} />
        {csvUrl ? (
          <p role="status">
            The export is ready: <a href={csvUrl} download={fileName} ref={ready.ref}>Download {fileName}</a>
          </p>
        ) : (
          <button type="button" class="secondary" aria-busy={exporting.pending} disabled={exporting.pending} onClick={prepareCsv}>
            Export as CSV
          </button>
        )}
      </section>
      {book.loading && !book.data ? <Loading what="Loading the gradebook" /> : null}
      <Problem problem={book.problem} />
      {book.data ? (
        book.data.items.length === 0 ? (
          <p>No learner yet.</p>
        ) : (
          <TableScroll label="Gradebook">
            <table>
              <caption>Results by learner; “excused” results do not count</caption>
              <thead>
                <tr>
                  <th scope="col">Learner</th>
                  {book.data.assessments.map((a) => (
                    <th scope="col" key={a.id}>
                      {a.title}
                      <br />
                      <small class="muted">{a.category}</small>
                    </th>
                  ))}
                  <th scope="col">Course grade</th>
                </tr>
              </thead>
              <tbody>
                {book.data.items.map((row) => (
                  <tr key={row.userId}>
                    <th scope="row">
                      {row.displayName}
                      {row.inactive ? " (deactivated)" : ""}
                      <br />
                      <small class="muted">{row.email}</small>
                    </th>
                    {book.data!.assessments.map((a) => {
                      const r = row.results[a.id];
                      return <td key={a.id}>{r === "excused" ? "Excused" : formatPercentValue(r ?? null)}</td>;
                    })}
                    <td>
                      <strong>{formatPercentValue(row.course.percent)}</strong>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path={`/courses/${courseId}/gradebook`} query={{ cursor }} nextCursor={book.data?.nextCursor} />
    </Page>
  );
}
