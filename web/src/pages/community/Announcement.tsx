import { useEffect } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";

/** One announcement; opening it marks it read (and its inbox entry), as the email's link promises. */
export default function Announcement({ courseId, announcementId }: { courseId: string; announcementId: string }) {
  const item = useApi(() => api.GET("/v1/announcements/{announcementId}", { params: { path: { announcementId } } }), [announcementId]);
  const loaded = Boolean(item.data);
  const unread = item.data?.read === false;
  useEffect(() => {
    if (loaded && unread) void api.POST("/v1/announcements/{announcementId}/read", { params: { path: { announcementId } } }).catch(() => undefined);
  }, [announcementId, loaded, unread]);

  return (
    <Page title={item.data?.title ?? "Announcement"}>
      <p>
        <a href={`/courses/${courseId}/announcements`}>All announcements of the course</a>
      </p>
      {item.loading && !item.data ? <Loading what="Loading the announcement" /> : null}
      <Problem problem={item.problem} />
      {item.data ? (
        <article>
          <p class="muted">
            {item.data.urgent ? <strong>Urgent · </strong> : null}
            Published {formatDateTime(item.data.publishedAt ?? item.data.publishAt)}
          </p>
          {/* bodyHtml is rendered by the API from markdown through its sanitizer (domain/shared/markdown.ts). */}
          <div dangerouslySetInnerHTML={{ __html: item.data.bodyHtml }} />
        </article>
      ) : null}
    </Page>
  );
}
