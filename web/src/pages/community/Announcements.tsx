import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";

/** A course's announcements, newest first, each marked unread in words until it is opened. */
export default function Announcements({ courseId }: { courseId: string }) {
  const { query } = useLocation();
  const cursor = query.cursor;
  const list = useApi(() => api.GET("/v1/courses/{courseId}/announcements", { params: { path: { courseId }, query: { cursor, limit: 20 } } }), [courseId, cursor]);
  return (
    <Page title="Announcements">
      <p>
        <a href={`/courses/${courseId}`}>Back to the course</a> · <a href={`/courses/${courseId}/discussions`}>Discussions</a>
      </p>
      {list.loading && !list.data ? <Loading what="Loading announcements" /> : null}
      <Problem problem={list.problem} />
      {list.data ? (
        list.data.items.length === 0 ? (
          <p>No announcements yet.</p>
        ) : (
          <ul class="card-list" aria-label="Announcements">
            {list.data.items.map((a) => (
              <li key={a.id}>
                <article>
                  <h2>
                    {a.read ? null : <mark>Unread</mark>} {a.urgent ? <mark>Urgent</mark> : null} <a href={`/courses/${courseId}/announcements/${a.id}`}>{a.title}</a>
                  </h2>
                  <p class="muted">{formatDateTime(a.publishedAt ?? a.publishAt)}</p>
                </article>
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Pager path={`/courses/${courseId}/announcements`} query={query} nextCursor={list.data?.nextCursor} nextLabel="Older announcements" />
    </Page>
  );
}
